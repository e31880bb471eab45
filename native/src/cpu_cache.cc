// A caching CPU allocator for large blocks, installed as libtorch's CPU allocator.
//
// Training frees and re-allocates the same activation sizes every step. Through malloc,
// blocks above its mmap threshold are unmapped on free and page-faulted in again on the
// next step; turning mmap off instead (the old tuning) keeps them but fragments the heap,
// which then only grows. Here large blocks are carved from our own mappings: a request takes
// the smallest free block that holds it (best fit), splitting off the rest, and a freed block
// joins its free neighbours in the same mapping. Freed memory stays resident for the next
// request, whatever its size, so a repeating loop settles into reusing the same pages.
//
// The free blocks never make the process hold much more than its own peak demand: mapped
// bytes (live + free) stay at most the highest live total seen so far plus `slack` of it.
// A request that no free block holds, at a moment when a new mapping would cross that mark,
// first unmaps free blocks (the smallest that covers the excess, else the largest, and so
// on). What is left over the byte bound on free blocks is unmapped too.
// Small blocks go to libtorch's default allocator unchanged.
#include <sys/mman.h>

#include <c10/core/CPUAllocator.h>
#include <napi.h>
#include <torch/version.h>

#include "cpu_cache.h"

#include <cstdint>
#include <set>
#include <mutex>
#include <unordered_map>
#include <utility>

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
constexpr size_t kHuge = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// A page-aligned range of one of our mappings. Blocks of the same mapping that touch are
// linked in address order, so a freed block can join its free neighbours.
struct Block {
  char* ptr;
  size_t size;
  bool free;
  Block* prev;  // the block just below, in the same mapping; null at its start
  Block* next;  // the block just above; null at its end
};

// Free blocks in best-fit order: by size, then address (deterministic choice among equals).
struct BySize {
  bool operator()(const Block* a, const Block* b) const {
    return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
  }
};

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator(c10::Allocator* base, size_t minBytes, size_t maxFree, bool huge,
                      double slack)
      : base_(base), minBytes_(minBytes), maxFree_(maxFree), huge_(huge), slack_(slack) {}

  c10::DataPtr allocate(size_t n) KDEP_ALLOCATE_CONST override {
    if (n < minBytes_) return base_->allocate(n);
    // Past half the address space, rounding up would wrap around to a small size.
    void* p = n > (SIZE_MAX >> 1) ? nullptr : Take(RoundUp(n, kPage));
    TORCH_CHECK(p != nullptr, "not enough memory: a CPU tensor of ", n,
                " bytes could not be allocated (kdep's CPU allocator; mmap failed)");
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
    Block* b = it->second;
    live_.erase(it);
    liveBytes_ -= b->size;
    Give(b);
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
    o.Set("peakMappedBytes", static_cast<double>(peakMapped_));
    o.Set("evictedBytes", static_cast<double>(evicted_));
    o.Set("freeBlocks", static_cast<double>(free_.size()));
    return o;
  }

  void SetSlack(double slack) {
    std::lock_guard<std::mutex> lock(mu_);
    slack_ = slack;
  }

  void ReleaseCached() const {
    std::lock_guard<std::mutex> lock(mu_);
    while (!free_.empty()) Evict(*free_.begin());
  }

 private:
  // A block of `size` bytes (page multiple): the best free fit, split, else a new mapping.
  void* Take(size_t size) const {
    std::lock_guard<std::mutex> lock(mu_);
    Block probe{nullptr, size, true, nullptr, nullptr};
    auto it = free_.lower_bound(&probe);
    Block* b;
    if (it != free_.end()) {
      b = *it;
      free_.erase(it);
      cached_ -= b->size;
      hits_++;
    } else {
      misses_++;
      size_t span = RoundUp(size, kHuge);
      MakeRoom(span);
      b = Map(span, size);
      if (b == nullptr) {
        while (!free_.empty()) Evict(*free_.begin());
        b = Map(span, size);
      }
      if (b == nullptr) return nullptr;
    }
    b->free = false;
    // The rest becomes a free block unless too small to serve a large request.
    if (b->size - size >= minBytes_) {
      auto* rest = new Block{b->ptr + size, b->size - size, true, b, b->next};
      if (b->next != nullptr) b->next->prev = rest;
      b->next = rest;
      b->size = size;
      AddFree(rest);
    }
    live_.emplace(b->ptr, b);
    liveBytes_ += b->size;
    peakLive_ = std::max(peakLive_, liveBytes_);
    return b->ptr;
  }

  // mu_ held. Before mapping `span` new bytes: unmaps free blocks so that live + free + span
  // stays within the limit (or the new peak this request makes).
  void MakeRoom(size_t span) const {
    size_t limit = std::max(Limit(), liveBytes_ + span);
    while (!free_.empty() && mapped_ + span > limit) {
      size_t excess = mapped_ + span - limit;
      Block probe{nullptr, excess, true, nullptr, nullptr};
      auto it = free_.lower_bound(&probe);
      if (it == free_.end()) it = std::prev(free_.end());
      evicted_ += (*it)->size;
      Evict(*it);
    }
  }

  // mu_ held: the most bytes mapped at once, the peak live total plus `slack_` of it.
  size_t Limit() const { return peakLive_ + static_cast<size_t>(peakLive_ * slack_); }

  // mu_ held. Frees a live block: it joins its free neighbours, then the bound on free
  // bytes unmaps the largest free blocks (the rarest to be needed whole again).
  void Give(Block* b) const {
    b->free = true;
    if (b->prev != nullptr && b->prev->free) {
      Block* p = b->prev;
      RemoveFree(p);
      p->size += b->size;
      Unlink(b, p);
      b = p;
    }
    if (b->next != nullptr && b->next->free) {
      Block* n = b->next;
      RemoveFree(n);
      b->size += n->size;
      Unlink(n, b);
    }
    AddFree(b);
    while (cached_ > maxFree_ && !free_.empty()) Evict(*std::prev(free_.end()));
  }

  // mu_ held. Drops `gone` (merged into `into`, its lower neighbour) from the address list.
  static void Unlink(Block* gone, Block* into) {
    into->next = gone->next;
    if (gone->next != nullptr) gone->next->prev = into;
    delete gone;
  }

  void AddFree(Block* b) const {
    free_.insert(b);
    cached_ += b->size;
  }

  void RemoveFree(Block* b) const {
    free_.erase(b);
    cached_ -= b->size;
  }

  // mu_ held. Unmaps a free block; its neighbours (live) now end their mappings there.
  void Evict(Block* b) const {
    RemoveFree(b);
    if (b->prev != nullptr) b->prev->next = nullptr;
    if (b->next != nullptr) b->next->prev = nullptr;
    munmap(b->ptr, b->size);
    mapped_ -= b->size;
    delete b;
  }

  // mu_ held. A new mapping of `span` bytes (a 2 MiB multiple) as one live-to-be block. With
  // `huge_` it starts on a 2 MiB boundary and asks for transparent huge pages over the whole
  // 2 MiB pages of the first `used` bytes (the request): one fault per 2 MiB instead of per
  // 4 KiB, and no huge page made resident by a request that ends inside it.
  Block* Map(size_t span, size_t used) const {
    size_t extra = huge_ ? kHuge : 0;
    void* raw = mmap(nullptr, span + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    char* p = static_cast<char*>(raw);
    if (huge_) {
      auto addr = reinterpret_cast<uintptr_t>(p);
      size_t head = ((addr + kHuge - 1) & ~(kHuge - 1)) - addr;
      if (head > 0) munmap(p, head);
      if (kHuge - head > 0) munmap(p + head + span, kHuge - head);
      p += head;
      madvise(p, used / kHuge * kHuge, MADV_HUGEPAGE);
    }
    mapped_ += span;
    peakMapped_ = std::max(peakMapped_, mapped_);
    return new Block{p, span, false, nullptr, nullptr};
  }

  c10::Allocator* base_;
  size_t minBytes_;
  size_t maxFree_;
  bool huge_;
  double slack_;
  mutable std::mutex mu_;
  mutable std::set<Block*, BySize> free_;
  mutable std::unordered_map<void*, Block*> live_;
  mutable size_t cached_ = 0;
  mutable size_t mapped_ = 0;
  mutable size_t peakMapped_ = 0;
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
