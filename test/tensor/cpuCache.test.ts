// The caching CPU allocator (native/src/cpu_cache.cc): large blocks are reused without new
// mappings, small ones go to libtorch's default allocator, release() unmaps the cache, and
// the free blocks never take the process above its peak live total.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { native } from "../../src/native/binding.js";
import { F } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";

describe("caching CPU allocator", () => {
  // The default (off with KDEP_CPU_CACHE=0); installing it after tensors exist is fine:
  // each block is freed by the allocator that made it.
  if (!T.cpuCacheStats()) native.installCpuCache(2 ** 20, 1024 * 2 ** 20, true);

  it("reuses a freed large block and leaves small blocks alone", () => {
    assert.ok(T.cpuCacheStats(), "installed");
    T.tidy(() => T.zeros([1024, 1024]).add(1).sum().item()); // 4 MiB blocks, freed
    const s1 = T.cpuCacheStats()!;
    assert.ok(s1.cachedBytes >= 4 * 2 ** 20);
    const sum = T.tidy(() => T.full([1024, 1024], 2).sum().item());
    assert.equal(sum, 2 * 2 ** 20); // a reused block holds what was written, nothing stale
    const s2 = T.cpuCacheStats()!;
    assert.ok(s2.hits > s1.hits);
    assert.equal(s2.mappedBytes, s1.mappedBytes, "no new mapping for a repeated size");
    T.tidy(() => T.ones([100, 100]).sum().item()); // 40 KB: the default allocator's
    assert.equal(T.cpuCacheStats()!.misses, s2.misses);
    assert.equal(T.cpuCacheStats()!.hits, s2.hits);
  });

  it("serves oneDNN's raw allocations (convolution scratch) and unmaps on release", () => {
    const y = T.tidy(() =>
      F.conv2d(T.randn([8, 16, 64, 64]), T.randn([32, 16, 3, 3]), null, { padding: 1 })
        .sum()
        .item(),
    );
    assert.ok(Number.isFinite(y));
    native.releaseCpuCache();
    assert.equal(T.cpuCacheStats()!.cachedBytes, 0);
  });

  it("unmaps free blocks rather than map past the peak live total", () => {
    const MiB = 2 ** 20;
    native.setCpuCacheSlack(0); // as the SVD pass runs (withTightCpuCache)
    native.releaseCpuCache();
    const s0 = T.cpuCacheStats()!;
    // 256 MiB, freed: kept. 180 MiB next: the free block is over 25% larger, so it is not
    // reused; mapping 180 MiB beside it would exceed the peak, so it is unmapped first.
    T.tidy(() =>
      T.full([64 * MiB], 1)
        .sum()
        .item(),
    );
    const s1 = T.cpuCacheStats()!;
    assert.ok(s1.cachedBytes >= 256 * MiB && s1.peakLiveBytes >= s0.liveBytes + 256 * MiB);
    const sum = T.tidy(() =>
      T.full([45 * MiB], 2)
        .sum()
        .item(),
    );
    assert.equal(sum, 90 * MiB);
    const s2 = T.cpuCacheStats()!;
    assert.ok(s2.evictedBytes - s1.evictedBytes >= 256 * MiB, "the 256 MiB block was unmapped");
    assert.ok(s2.mappedBytes <= s2.peakLiveBytes, `${s2.mappedBytes} > ${s2.peakLiveBytes}`);
    assert.equal(s2.peakLiveBytes, s1.peakLiveBytes, "no new peak");
  });

  it("with a slack, keeps a free block that fits under peak × (1 + slack)", () => {
    const MiB = 2 ** 20;
    native.setCpuCacheSlack(1);
    native.releaseCpuCache();
    T.tidy(() =>
      T.full([64 * MiB], 1)
        .sum()
        .item(),
    );
    const s1 = T.cpuCacheStats()!;
    T.tidy(() =>
      T.full([45 * MiB], 2)
        .sum()
        .item(),
    );
    const s2 = T.cpuCacheStats()!;
    native.setCpuCacheSlack(0.25); // the training default
    assert.equal(s2.evictedBytes, s1.evictedBytes, "nothing unmapped");
    assert.ok(s2.mappedBytes > s2.peakLiveBytes, "both blocks mapped, above the live peak");
    assert.ok(s2.mappedBytes <= 2 * s2.peakLiveBytes);
  });
});
