// Everything a tensor handle needs that is not an ATen operator: buffers in and out,
// metadata, autograd entry points, global settings (threads, seeds, grad mode).
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/version.h>

#include <malloc.h>

#include <cstring>
#include <memory>
#include <vector>

#include "handle.h"
#include "tensor_fns.h"

namespace kdep {
namespace {

std::vector<int64_t> ShapeArg(Napi::Env env, const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of integers for shape");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

Napi::Array IntArray(Napi::Env env, c10::IntArrayRef v) {
  auto arr = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(v[i])));
  return arr;
}

// Inference-mode guards are RAII objects; JS enters and leaves them around a callback,
// so they live on a stack here, always on the JS thread.
std::vector<std::unique_ptr<c10::InferenceMode>>& InferenceStack() {
  static std::vector<std::unique_ptr<c10::InferenceMode>> s;
  return s;
}

}  // namespace

// fromBuffer(bytes: ArrayBufferView, shape: number[], dtype: number) — copies the bytes.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray() && !info[0].IsDataView() && !info[0].IsBuffer()) {
      throw Napi::TypeError::New(env, "Expected a TypedArray for data");
    }
    auto view = info[0].As<Napi::TypedArray>();
    auto shape = ShapeArg(env, info[1]);
    auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    const size_t need = t.numel() * t.element_size();
    const size_t have = view.ByteLength();
    if (need != have) {
      throw Napi::RangeError::New(env, "Data holds " + std::to_string(have) + " bytes but shape " +
                                           c10::str(t.sizes()) + " of " + std::string(c10::toString(dtype)) +
                                           " needs " + std::to_string(need));
    }
    auto ab = view.ArrayBuffer();
    std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ab.Data()) + view.ByteOffset(), need);
    return Wrap(env, t);
  });
}

// toBuffer(t) — a copy of the contiguous CPU data as an ArrayBuffer.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor t = Unwrap(env, info[0], "tensor").detach();
    if (!t.device().is_cpu()) t = t.to(at::kCPU);
    t = t.contiguous();
    const size_t n = t.numel() * t.element_size();
    auto ab = Napi::ArrayBuffer::New(env, n);
    if (n) std::memcpy(ab.Data(), t.data_ptr(), n);
    return ab;
  });
}

// view(t) — zero-copy: an external ArrayBuffer over a contiguous CPU tensor's memory. The
// buffer keeps the storage alive until V8 collects it; writes through it are visible.
Napi::Value ExternalView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& src = Unwrap(env, info[0], "tensor");
    if (!src.device().is_cpu() || !src.is_contiguous()) {
      throw Napi::Error::New(env, "A zero-copy view needs a contiguous CPU tensor");
    }
    auto* keep = new at::Tensor(src.detach());
    const size_t n = keep->numel() * keep->element_size();
    return Napi::ArrayBuffer::New(env, keep->data_ptr(), n, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  });
}

Napi::Value Meta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& t = Unwrap(env, info[0], "tensor");
    auto out = Napi::Array::New(env, 3);
    out.Set(0u, IntArray(env, t.sizes()));
    out.Set(1u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
    out.Set(2u, Napi::String::New(env, t.device().str()));
    return out;
  });
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return IntArray(env, Unwrap(env, info[0], "tensor").strides()); });
}

Napi::Value StorageOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    return Napi::Number::New(env, static_cast<double>(Unwrap(env, info[0], "tensor").storage_offset()));
  });
}

Napi::Value DataPtr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto p = reinterpret_cast<uintptr_t>(Unwrap(env, info[0], "tensor").data_ptr());
    return Napi::BigInt::New(env, static_cast<uint64_t>(p));
  });
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& t = Unwrap(env, info[0], "tensor");
    int fmt = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : 0;
    return Napi::Boolean::New(env, t.is_contiguous(static_cast<at::MemoryFormat>(fmt)));
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& t = Unwrap(env, info[0], "tensor");
    if (t.numel() != 1) throw Napi::Error::New(env, "item() needs a tensor with one element, got shape " + c10::str(t.sizes()));
    return Napi::Number::New(env, t.item<double>());
  });
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Napi::Boolean::New(env, Unwrap(env, info[0], "tensor").requires_grad()); });
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Unwrap(env, info[0], "tensor").set_requires_grad(info[1].ToBoolean().Value());
    return env.Undefined();
  });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Napi::Boolean::New(env, Unwrap(env, info[0], "tensor").is_leaf()); });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Wrap(env, Unwrap(env, info[0], "tensor").grad()); });
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& t = Unwrap(env, info[0], "tensor");
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = Unwrap(env, info[1], "grad");
    return env.Undefined();
  });
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Unwrap(env, info[0], "tensor").retain_grad();
    return env.Undefined();
  });
}

Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const auto& fn = Unwrap(env, info[0], "tensor").grad_fn();
    if (!fn) return env.Null();
    return Napi::String::New(env, fn->name());
  });
}

// backward(outputs[], grads[] | null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto outs = info[0].As<Napi::Array>();
    std::vector<at::Tensor> tensors, grads;
    for (uint32_t i = 0; i < outs.Length(); i++) tensors.push_back(Unwrap(env, outs.Get(i), "outputs"));
    if (info[1].IsArray()) {
      auto g = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < g.Length(); i++) grads.push_back(Unwrap(env, g.Get(i), "gradient"));
    }
    c10::optional<bool> retain;
    if (info[2].IsBoolean()) retain = info[2].As<Napi::Boolean>().Value();
    bool create = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    torch::autograd::backward(tensors, grads, retain, create);
    return env.Undefined();
  });
}

Napi::Value IsHandleFn(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsHandle(info.Env(), info[0]));
}

Napi::Value LiveCountFn(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LiveCount()));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int n = info[0].As<Napi::Number>().Int32Value();
    if (n < 1) throw Napi::RangeError::New(env, "Expected a positive thread count, got " + std::to_string(n));
    at::set_num_threads(n);
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    bool lossless = false;
    uint64_t seed = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Uint64Value(&lossless)
                                       : static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    // Through Context, not the CUDA hooks: their generator getter was renamed in 2.x.
    const int gpus = at::detail::getCUDAHooks().getNumGPUs();
    for (int i = 0; i < gpus; i++) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    return env.Undefined();
  });
}

Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return Wrap(env, gen.get_state());
  });
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    at::Tensor& state = Unwrap(env, info[0], "state");
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
    return env.Undefined();
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value EnterInferenceMode(const Napi::CallbackInfo& info) {
  InferenceStack().push_back(std::make_unique<c10::InferenceMode>(true));
  return Napi::Number::New(info.Env(), static_cast<double>(InferenceStack().size()));
}

Napi::Value ExitInferenceMode(const Napi::CallbackInfo& info) {
  if (!InferenceStack().empty()) InferenceStack().pop_back();
  return Napi::Number::New(info.Env(), static_cast<double>(InferenceStack().size()));
}

Napi::Value IsInferenceTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Napi::Boolean::New(env, Unwrap(env, info[0], "tensor").is_inference()); });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::detail::getCUDAHooks().getNumGPUs());
}

// tuneAllocator(mmapThreshold, trimThreshold): glibc malloc settings. Training frees and
// re-allocates the same activation sizes every step; glibc's defaults hand that memory back
// to the kernel and page-fault it in again each time.
Napi::Value TuneAllocator(const Napi::CallbackInfo& info) {
  int a = mallopt(M_MMAP_THRESHOLD, info[0].As<Napi::Number>().Int32Value());
  int b = mallopt(M_TRIM_THRESHOLD, info[1].As<Napi::Number>().Int32Value());
  int c = 1;
  if (info.Length() > 2 && info[2].IsNumber()) c = mallopt(M_MMAP_MAX, info[2].As<Napi::Number>().Int32Value());
  return Napi::Boolean::New(info.Env(), a == 1 && b == 1 && c == 1);
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
#if defined(TORCH_VERSION_MAJOR)
  out.Set("libtorch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH));
#endif
  out.Set("parallel", at::get_parallel_info());
  return out;
}

}  // namespace kdep
