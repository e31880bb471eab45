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

  it("serves a smaller request from part of a free block and joins it back on free", () => {
    const MiB = 2 ** 20;
    native.releaseCpuCache();
    T.zeros([16 * MiB]).dispose(); // one 64 MiB mapping, now a single free block
    const s1 = T.cpuCacheStats()!;
    assert.equal(s1.freeBlocks, 1);
    // Three 16 MiB tensors are carved from it: no new mapping.
    const parts = [1, 2, 3].map((v) => T.full([4 * MiB], v));
    const s2 = T.cpuCacheStats()!;
    assert.equal(s2.mappedBytes, s1.mappedBytes, "no new mapping");
    assert.equal(s2.hits - s1.hits, 3);
    assert.equal(s2.freeBlocks, 1, "the 16 MiB left over");
    assert.deepEqual(
      parts.map((t) => t.sum().item()),
      [4 * MiB, 8 * MiB, 12 * MiB],
    );
    // Freed out of order, the four pieces join into one block again, which then serves a
    // request of the whole size.
    for (const i of [0, 2, 1]) parts[i].dispose();
    assert.equal(T.cpuCacheStats()!.freeBlocks, 1);
    assert.equal(T.cpuCacheStats()!.cachedBytes, s1.cachedBytes);
    const whole = T.full([16 * MiB], 1);
    assert.equal(whole.sum().item(), 16 * MiB);
    whole.dispose();
    assert.equal(T.cpuCacheStats()!.mappedBytes, s1.mappedBytes, "still no new mapping");
  });

  it("unmaps free blocks rather than map past the peak live total", () => {
    const MiB = 2 ** 20;
    native.setCpuCacheSlack(0); // as the SVD pass runs (withTightCpuCache)
    native.releaseCpuCache();
    T.tidy(() =>
      T.zeros([64 * MiB])
        .sum()
        .item(),
    ); // 256 MiB, freed: kept
    const s1 = T.cpuCacheStats()!;
    assert.ok(s1.cachedBytes >= 256 * MiB);
    // 320 MiB next: no free block holds it, and mapping it beside the 256 MiB free block
    // would exceed the peak, so that block is unmapped first.
    const sum = T.tidy(() =>
      T.full([80 * MiB], 2)
        .sum()
        .item(),
    );
    assert.equal(sum, 160 * MiB);
    const s2 = T.cpuCacheStats()!;
    assert.ok(s2.evictedBytes - s1.evictedBytes >= 256 * MiB, "the 256 MiB block was unmapped");
    assert.ok(s2.peakMappedBytes <= Math.max(s1.peakMappedBytes, s2.peakLiveBytes));
    assert.ok(s2.mappedBytes <= s2.peakLiveBytes, `${s2.mappedBytes} > ${s2.peakLiveBytes}`);
  });

  it("with a slack, keeps a free block that fits under peak × (1 + slack)", () => {
    const MiB = 2 ** 20;
    native.setCpuCacheSlack(1);
    native.releaseCpuCache();
    T.tidy(() =>
      T.zeros([25 * MiB])
        .sum()
        .item(),
    ); // 100 MiB, freed
    const s1 = T.cpuCacheStats()!;
    T.tidy(() =>
      T.zeros([38 * MiB])
        .sum()
        .item(),
    ); // 152 MiB: does not fit in it
    const s2 = T.cpuCacheStats()!;
    native.setCpuCacheSlack(0.25); // the training default
    assert.equal(s2.evictedBytes, s1.evictedBytes, "nothing unmapped");
    assert.ok(s2.mappedBytes >= 252 * MiB, "both blocks mapped");
    assert.ok(s2.mappedBytes <= 2 * s2.peakLiveBytes);
  });

  it("keeps blocks apart and its books balanced under random allocation and release", () => {
    const MiB = 2 ** 20;
    native.setCpuCacheSlack(0.1);
    let state = 12345;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const held: { t: T.Tensor; v: number }[] = [];
    for (let i = 0; i < 200; i++) {
      if (held.length > 0 && rand(3) === 0) {
        const [gone] = held.splice(rand(held.length), 1);
        assert.equal(gone.t.sum().item(), gone.v * gone.t.numel, "contents intact until freed");
        gone.t.dispose();
      } else {
        // 1–24 MiB, not page multiples: splits leave odd remainders to join later.
        const n = (MiB + rand(23 * MiB)) >> 2;
        const v = 1 + rand(1000); // int32 sums are exact: an overlap would change one
        held.push({ t: T.full([n], v, { dtype: "int32" }), v });
      }
      const s = T.cpuCacheStats()!;
      assert.equal(s.mappedBytes, s.liveBytes + s.cachedBytes, `step ${i}`);
    }
    for (const h of held) {
      assert.equal(h.t.sum().item(), h.v * h.t.numel);
      h.t.dispose();
    }
    native.setCpuCacheSlack(0.25);
  });

  it("an allocation no mapping can hold is an error naming its size, and nothing is lost", () => {
    const before = T.cpuCacheStats()!;
    const kept = T.full([2 ** 20], 3); // 4 MiB, live across the failure
    // 1 EiB: more than the address space, so mmap fails whatever the overcommit setting.
    assert.throws(
      () => T.empty([2 ** 60], { dtype: "uint8" }),
      /not enough memory: a CPU tensor of 1152921504606846976 bytes could not be allocated/,
    );
    assert.equal(kept.sum().item(), 3 * 2 ** 20);
    kept.dispose();
    const after = T.cpuCacheStats()!;
    assert.equal(after.mappedBytes, after.liveBytes + after.cachedBytes);
    assert.ok(after.misses >= before.misses);
  });
});
