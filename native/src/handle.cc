#include "handle.h"

#include <cmath>
#include <deque>
#include <vector>

namespace kdep {

// handle = 2^52 + generation·2^24 + slot: an exact double, far above any size or count an
// op returns, so a stray integer is not read as a tensor. Creating one costs a vector store;
// an External with a finalizer (the previous design) cost about a microsecond per op result.
namespace {
constexpr double kTag = 4503599627370496.0;  // 2^52, also in src/native/binding.ts
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
}  // namespace

struct Table {
  // A deque, so references handed out by Unwrap stay valid while later results are wrapped.
  std::deque<Slot> slots;
  std::vector<uint32_t> free;
  int64_t live = 0;
};

namespace {
thread_local Table g_table;

// The slot a value names, or nullptr when it is not one of our handles at all.
Slot* SlotOf(Table& tb, double d) {
  if (!(d >= kTag && d < 2 * kTag) || std::floor(d) != d) return nullptr;
  const uint64_t idx = static_cast<uint64_t>(d - kTag) & kSlotMask;
  return idx < tb.slots.size() ? &tb.slots[idx] : nullptr;
}

bool IsCurrent(const Slot& s, double d) {
  return s.gen == static_cast<uint32_t>(static_cast<uint64_t>(d - kTag) >> kSlotBits) && s.t.defined();
}

// The number a value holds, or NaN (never a handle) for anything else.
double NumberOf(const Napi::Value& v) {
  double d;
  return napi_get_value_double(v.Env(), v, &d) == napi_ok ? d : std::nan("");
}
}  // namespace

Table& ThreadTable() { return g_table; }

at::Tensor* Find(Table& tb, double h, bool* ours) {
  Slot* s = SlotOf(tb, h);
  *ours = s != nullptr;
  return s != nullptr && IsCurrent(*s, h) ? &s->t : nullptr;
}

at::Tensor* FindValue(napi_env env, Table& tb, napi_value v) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return nullptr;
  bool ours;
  return Find(tb, d, &ours);
}

double Insert(Table& tb, napi_env env, at::Tensor t) {
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
      int64_t total;
      napi_adjust_external_memory(env, bytes, &total);
    }
  }
  tb.live++;
  return kTag + static_cast<double>((static_cast<uint64_t>(s.gen) << kSlotBits) | idx);
}

bool Release(Table& tb, napi_env env, double h) {
  Slot* s = SlotOf(tb, h);
  if (s == nullptr) throw Napi::TypeError::New(env, "Expected a tensor handle to dispose");
  if (!IsCurrent(*s, h)) return false;
  // Move the tensor out first: freeing it may run arbitrary destructors, and the slot must
  // already be consistent if one of them throws.
  at::Tensor dead = std::move(s->t);
  s->t = at::Tensor();
  s->gen = (s->gen + 1) & kGenMask;
  if (s->reported) {
    int64_t total;
    napi_adjust_external_memory(env, -s->reported, &total);
  }
  s->reported = 0;
  tb.free.push_back(s->idx);
  tb.live--;
  return true;
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  return Napi::Number::New(env, Insert(g_table, env, std::move(t)));
}

void ThrowNotTensor(Napi::Env env, const Napi::Value& v, const char* what) {
  bool ours = false;
  Find(g_table, NumberOf(v), &ours);
  if (!ours) throw Napi::TypeError::New(env, std::string("Expected a tensor handle for ") + what);
  throw Napi::Error::New(env, std::string("Tensor passed as ") + what + " has been disposed");
}

at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, const char* what) {
  bool ours = false;
  at::Tensor* t = Find(g_table, NumberOf(v), &ours);
  if (t == nullptr) ThrowNotTensor(env, v, what);
  return *t;
}

bool IsHandle(Napi::Env env, const Napi::Value& v) {
  bool ours = false;
  return Find(g_table, NumberOf(v), &ours) != nullptr;
}

int64_t LiveCount() { return g_table.live; }

}  // namespace kdep
