// A caching CPU allocator for large blocks, installed as libtorch's CPU allocator.
//
// Training frees and re-allocates the same activation sizes every step. Through malloc,
// blocks above its mmap threshold are unmapped on free and page-faulted in again on the
// next step; turning mmap off instead (the old tuning) keeps them but fragments the heap,
// which then only grows. Here large blocks are mapped directly and, when freed, kept in a
// size-keyed free list (bounded in bytes) for the next request of about the same size:
// the pages stay resident, nothing fragments, and what exceeds the bound is unmapped.
//
// The free list never makes the process hold more than its own peak demand: mapped bytes
// (live + free) stay at most the highest live total seen so far. A request that finds no
// free block of its size, at a moment when a new mapping would cross that mark, first
// unmaps free blocks. A training or inference loop repeats the same sizes, so most
// requests are served from the free list without page faults (those whose size classes do
// not all fit under the peak at once are mapped again, in huge pages), and the peak
// resident memory is what the work needs at its busiest point, as with an allocator that
// returns every block at once.
// Small blocks go to libtorch's default allocator unchanged.
#include <sys/mman.h>

#include <c10/core/CPUAllocator.h>
#include <napi.h>
#include <torch/version.h>

#include "cpu_cache.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace kdep {
namespace {

// libtorch 2.3 made allocate() non-const and copy_data() pure virtual.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define KDEP_ALLOCATE_CONST
#define KDEP_NEEDS_COPY_DATA 1
#else
#define KDEP_ALLOCATE_CONST const
#define KDEP_NEEDS_COPY_DATA 0
#endif

constexpr size_t kPage = 4096;

// Size classes an eighth of a power of two apart: at most 12.5% (and a page) over.
size_t RoundSize(size_t n) {
  size_t p = 1;
  while (p <= n / 2) p *= 2;
  size_t step = std::max(p / 8, kPage);
  return (n + step - 1) / step * step;
}

class CachingCpuAllocator;

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator(c10::Allocator* base, size_t minBytes, size_t maxFree, bool huge,
                      double slack)
      : base_(base), minBytes_(minBytes), maxFree_(maxFree), huge_(huge), slack_(slack) {}

  c10::DataPtr allocate(size_t n) KDEP_ALLOCATE_CONST override {
    if (n < minBytes_) return base_->allocate(n);
    size_t size = RoundSize(n);
    void* p = Take(&size);
    if (p == nullptr) {
      MakeRoom(size);
      p = Map(size, n);
      if (p == nullptr) {
        ReleaseCached();
        p = Map(size, n);
      }
      if (p == nullptr) throw std::bad_alloc();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.emplace(p, size);
      liveBytes_ += size;
      peakLive_ = std::max(peakLive_, liveBytes_);
    }
    // ctx == data, as raw_allocate()/raw_deallocate() (oneDNN's scratch memory) require.
    return {p, p, &Free, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

#if KDEP_NEEDS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#endif

  // Frees a block of either kind: ours (in live_) or the base allocator's.
  static void Free(void* p);

  bool GiveIfOurs(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    size_t size = it->second;
    live_.erase(it);
    liveBytes_ -= size;
    Give(p, size);
    return true;
  }

  void FreeSmall(void* p) const { base_->raw_deleter()(p); }

  Napi::Object Stats(Napi::Env env) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto o = Napi::Object::New(env);
    o.Set("cachedBytes", static_cast<double>(cached_));
    o.Set("mappedBytes", static_cast<double>(mapped_));
    o.Set("hits", static_cast<double>(hits_));
    o.Set("misses", static_cast<double>(misses_));
    o.Set("minBytes", static_cast<double>(minBytes_));
    o.Set("maxFreeBytes", static_cast<double>(maxFree_));
    o.Set("liveBytes", static_cast<double>(liveBytes_));
    o.Set("peakLiveBytes", static_cast<double>(peakLive_));
    o.Set("evictedBytes", static_cast<double>(evicted_));
    return o;
  }

  void SetSlack(double slack) {
    std::lock_guard<std::mutex> lock(mu_);
    slack_ = slack;
  }

  void ReleaseCached() const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, p] : free_) Unmap(p, size);
    free_.clear();
    cached_ = 0;
  }

 private:
  // A free block of the request's size class; else, when a new mapping would have to unmap
  // free blocks to stay within the peak, the smallest one at most a quarter larger (a
  // larger block taken while there is room would leave its own class short later).
  // `*size` becomes the block's mapped size (what its Block must unmap).
  void* Take(size_t* size) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(*size);
    if (it == free_.end() && liveBytes_ + *size + cached_ > Limit()) {
      it = free_.lower_bound(*size);
      if (it != free_.end() && it->first > *size + *size / 4) it = free_.end();
    }
    if (it == free_.end()) {
      misses_++;
      return nullptr;
    }
    void* p = it->second;
    *size = it->first;
    free_.erase(it);
    cached_ -= *size;
    hits_++;
    return p;
  }

  // Before mapping `size` new bytes: unmaps free blocks so that live + free + size stays
  // within the peak live total (or the new peak this request makes). The smallest free
  // block that covers the excess goes first, else the largest, and so on.
  void MakeRoom(size_t size) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t limit = std::max(Limit(), liveBytes_ + size);
    while (!free_.empty() && liveBytes_ + size + cached_ > limit) {
      size_t excess = liveBytes_ + size + cached_ - limit;
      auto it = free_.lower_bound(excess);
      if (it == free_.end()) it = std::prev(free_.end());
      Unmap(it->second, it->first);
      cached_ -= it->first;
      evicted_ += it->first;
      free_.erase(it);
    }
  }

  // mu_ held: the most bytes mapped at once, the peak live total plus `slack_` of it.
  size_t Limit() const { return peakLive_ + static_cast<size_t>(peakLive_ * slack_); }

  // mu_ held.
  void Give(void* p, size_t size) {
    if (size > maxFree_) {
      Unmap(p, size);  // mu_ is held: Unmap only counts
      return;
    }
    // Over the bound: unmap the largest free blocks first (the rarest sizes to reuse whole).
    while (cached_ + size > maxFree_ && !free_.empty()) {
      auto last = std::prev(free_.end());
      Unmap(last->second, last->first);
      cached_ -= last->first;
      free_.erase(last);
    }
    free_.emplace(size, p);
    cached_ += size;
  }

  // With `huge_`, blocks of 2 MiB and more start on a 2 MiB boundary and ask for
  // transparent huge pages over the first `used` bytes (the requester's size): one fault per
  // 2 MiB instead of per 4 KiB, with no page resident beyond what is written.
  void* Map(size_t size, size_t used) const {
    constexpr size_t kHuge = size_t{2} << 20;
    bool huge = huge_ && size >= kHuge;
    size_t span = huge ? size + kHuge : size;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    char* p = static_cast<char*>(raw);
    if (huge) {
      auto addr = reinterpret_cast<uintptr_t>(p);
      size_t head = ((addr + kHuge - 1) & ~(kHuge - 1)) - addr;
      if (head > 0) munmap(p, head);
      if (kHuge - head > 0) munmap(p + head + size, kHuge - head);
      p += head;
      madvise(p, used / kHuge * kHuge, MADV_HUGEPAGE);
    }
    std::lock_guard<std::mutex> lock(mu_);
    mapped_ += size;
    return p;
  }

  void Unmap(void* p, size_t size) const {
    munmap(p, size);
    mapped_ -= size;
  }

  c10::Allocator* base_;
  size_t minBytes_;
  size_t maxFree_;
  bool huge_;
  double slack_;
  mutable std::mutex mu_;
  mutable std::multimap<size_t, void*> free_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable size_t cached_ = 0;
  mutable size_t mapped_ = 0;
  mutable size_t liveBytes_ = 0;
  mutable size_t peakLive_ = 0;
  mutable size_t evicted_ = 0;
  mutable uint64_t hits_ = 0;
  mutable uint64_t misses_ = 0;
};

// Never destroyed: tensors may outlive every static destructor.
CachingCpuAllocator* gCache = nullptr;

void CachingCpuAllocator::Free(void* p) {
  if (p == nullptr) return;
  if (!gCache->GiveIfOurs(p)) gCache->FreeSmall(p);
}

}  // namespace

// installCpuCache(minBytes, maxFreeBytes, hugePages): true when installed by this call.
Napi::Value InstallCpuCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (gCache != nullptr) return Napi::Boolean::New(env, false);
  auto minBytes = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  auto maxFree = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  bool huge = info.Length() > 2 && info[2].ToBoolean().Value();
  double slack = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : 0;
  gCache = new CachingCpuAllocator(c10::GetDefaultCPUAllocator(), std::max(minBytes, kPage),
                                   maxFree, huge, slack);
  c10::SetAllocator(c10::DeviceType::CPU, gCache, /*priority=*/1);
  return Napi::Boolean::New(env, c10::GetAllocator(c10::DeviceType::CPU) == gCache);
}

// cpuCacheStats(): null when not installed; releaseCpuCache() unmaps every free block.
Napi::Value CpuCacheStats(const Napi::CallbackInfo& info) {
  if (gCache == nullptr) return info.Env().Null();
  return gCache->Stats(info.Env());
}

// setCpuCacheSlack(f): from now on map at most the peak live total plus f of it.
Napi::Value SetCpuCacheSlack(const Napi::CallbackInfo& info) {
  if (gCache != nullptr && info.Length() > 0 && info[0].IsNumber())
    gCache->SetSlack(std::max(0.0, info[0].As<Napi::Number>().DoubleValue()));
  return Napi::Boolean::New(info.Env(), gCache != nullptr);
}

Napi::Value ReleaseCpuCache(const Napi::CallbackInfo& info) {
  if (gCache != nullptr) gCache->ReleaseCached();
  return info.Env().Undefined();
}

void ExportCpuCache(Napi::Env env, Napi::Object exports) {
  exports.Set("installCpuCache", Napi::Function::New(env, InstallCpuCache));
  exports.Set("cpuCacheStats", Napi::Function::New(env, CpuCacheStats));
  exports.Set("releaseCpuCache", Napi::Function::New(env, ReleaseCpuCache));
  exports.Set("setCpuCacheSlack", Napi::Function::New(env, SetCpuCacheSlack));
}

}  // namespace kdep
