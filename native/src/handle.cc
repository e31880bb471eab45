#include "handle.h"

#include <atomic>
#include <unordered_set>

namespace kdep {
namespace {

std::atomic<int64_t> g_live{0};

// Every box this addon created and V8 has not yet collected. An External is ours only if
// its pointer is in here: a foreign External can never pass for a tensor. (napi type tags
// do the same job but cost about a microsecond per op, as much as a small kernel.)
// Only touched on the JS thread: creation, disposal and finalizers all run there.
std::unordered_set<const TensorBox*>& Boxes() {
  static std::unordered_set<const TensorBox*> boxes;
  return boxes;
}

void Release(Napi::Env env, TensorBox* box) {
  if (box->disposed) return;
  box->disposed = true;
  box->t.reset();
  if (box->reported) Napi::MemoryManagement::AdjustExternalMemory(env, -box->reported);
  box->reported = 0;
  g_live--;
}

TensorBox* BoxOf(Napi::Env env, const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  auto* box = v.As<Napi::External<TensorBox>>().Data();
  return Boxes().count(box) ? box : nullptr;
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  auto* box = new TensorBox{std::move(t)};
  // Only CPU memory matters to V8's heuristics; report it so GC runs when handles pile up.
  // Small tensors are skipped: reporting costs a V8 call per op and they cannot move GC.
  if (box->t.device().is_cpu()) {
    const int64_t bytes = static_cast<int64_t>(box->t.numel() * box->t.element_size());
    if (bytes >= (64 << 10)) {
      box->reported = bytes;
      Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
    }
  }
  g_live++;
  Boxes().insert(box);
  return Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* b) {
    Release(env, b);
    Boxes().erase(b);
    delete b;
  });
}

at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, const char* what) {
  TensorBox* box = BoxOf(env, v);
  if (box == nullptr) {
    throw Napi::TypeError::New(env, std::string("Expected a tensor handle for ") + what);
  }
  if (box->disposed) {
    throw Napi::Error::New(env, std::string("Tensor passed as ") + what + " has been disposed");
  }
  return box->t;
}

bool IsHandle(Napi::Env env, const Napi::Value& v) { return BoxOf(env, v) != nullptr; }

void Dispose(Napi::Env env, const Napi::Value& v) {
  TensorBox* box = BoxOf(env, v);
  if (box == nullptr) throw Napi::TypeError::New(env, "Expected a tensor handle to dispose");
  Release(env, box);
}

int64_t LiveCount() { return g_live.load(); }

}  // namespace kdep
