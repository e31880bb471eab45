#include "handle.h"

#include <cmath>
#include <deque>
#include <vector>

namespace kdep {
namespace {

// handle = 2^52 + generation·2^24 + slot: an exact double, far above any size or count an
// op returns, so a stray integer is not read as a tensor. Creating one costs a vector store;
// an External with a finalizer (the previous design) cost about a microsecond per op result.
constexpr double kTag = 4503599627370496.0;  // 2^52
constexpr uint64_t kSlotBits = 24;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
constexpr uint32_t kGenMask = (uint32_t{1} << 28) - 1;
constexpr int64_t kReportBytes = 64 << 10;

struct Slot {
  at::Tensor t;
  uint32_t idx = 0;
  uint32_t gen = 0;
  int64_t reported = 0;  // bytes reported to V8 as external memory
};

// One table per JS thread (main thread or worker): handles never cross threads.
struct Table {
  // A deque, so references handed out by Unwrap stay valid while later results are wrapped.
  std::deque<Slot> slots;
  std::vector<uint32_t> free;
  int64_t live = 0;
};

thread_local Table g_table;

// The slot a value names, or nullptr when the value is not one of our handles at all.
// `live` tells whether the generation matches (the tensor has not been disposed).
Slot* SlotOf(const Napi::Value& v, bool* live) {
  *live = false;
  if (!v.IsNumber()) return nullptr;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= kTag && d < 2 * kTag) || std::floor(d) != d) return nullptr;
  const uint64_t bits = static_cast<uint64_t>(d - kTag);
  const uint64_t idx = bits & kSlotMask;
  if (idx >= g_table.slots.size()) return nullptr;
  Slot& s = g_table.slots[idx];
  *live = s.gen == static_cast<uint32_t>(bits >> kSlotBits) && s.t.defined();
  return &s;
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  Table& tb = g_table;
  uint32_t idx;
  if (!tb.free.empty()) {
    idx = tb.free.back();
    tb.free.pop_back();
  } else {
    if (tb.slots.size() > kSlotMask) throw std::runtime_error("Too many live tensors (16M)");
    idx = static_cast<uint32_t>(tb.slots.size());
    tb.slots.emplace_back();
    tb.slots.back().idx = idx;
  }
  Slot& s = tb.slots[idx];
  s.t = std::move(t);
  // Only CPU memory matters to V8's heuristics; report it so GC runs when handles pile up.
  // Small tensors are skipped: reporting costs a V8 call per op and they cannot move GC.
  if (s.t.device().is_cpu()) {
    const int64_t bytes = static_cast<int64_t>(s.t.numel() * s.t.element_size());
    if (bytes >= kReportBytes) {
      s.reported = bytes;
      Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
    }
  }
  tb.live++;
  const double h = kTag + static_cast<double>((static_cast<uint64_t>(s.gen) << kSlotBits) | idx);
  return Napi::Number::New(env, h);
}

at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, const char* what) {
  bool live = false;
  Slot* s = SlotOf(v, &live);
  if (s == nullptr) {
    throw Napi::TypeError::New(env, std::string("Expected a tensor handle for ") + what);
  }
  if (!live) {
    throw Napi::Error::New(env, std::string("Tensor passed as ") + what + " has been disposed");
  }
  return s->t;
}

bool IsHandle(Napi::Env env, const Napi::Value& v) {
  bool live = false;
  return SlotOf(v, &live) != nullptr && live;
}

bool Dispose(Napi::Env env, const Napi::Value& v) {
  bool live = false;
  Slot* s = SlotOf(v, &live);
  if (s == nullptr) throw Napi::TypeError::New(env, "Expected a tensor handle to dispose");
  if (!live) return false;
  // Move the tensor out first: freeing it may run arbitrary destructors, and the slot must
  // already be consistent if one of them throws.
  at::Tensor dead = std::move(s->t);
  s->t = at::Tensor();
  s->gen = (s->gen + 1) & kGenMask;
  if (s->reported) Napi::MemoryManagement::AdjustExternalMemory(env, -s->reported);
  s->reported = 0;
  g_table.free.push_back(s->idx);
  g_table.live--;
  return true;
}

int64_t LiveCount() { return g_table.live; }

}  // namespace kdep
