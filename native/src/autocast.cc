// Autocast (mixed precision) switches for the dispatcher: the TLS flags that
// torch.autocast sets. Ops called through the dispatcher while they are on run in the
// lower precision where autocast's op lists say so.
#include <ATen/autocast_mode.h>
#include <napi.h>
#include <torch/version.h>

#include "autocast.h"
#include "handle.h"

namespace kdep {
namespace {

// libtorch 2.4 replaced the per-device functions with ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define KDEP_AUTOCAST_BY_DEVICE 1
#else
#define KDEP_AUTOCAST_BY_DEVICE 0
#endif

c10::DeviceType DeviceOf(Napi::Env env, const Napi::Value& v) {
  std::string d = v.As<Napi::String>().Utf8Value();
  if (d == "cpu") return c10::DeviceType::CPU;
  if (d == "cuda") return c10::DeviceType::CUDA;
  throw Napi::TypeError::New(env, "autocast device must be \"cpu\" or \"cuda\", got \"" + d + "\"");
}

bool IsEnabled(c10::DeviceType t) {
#if KDEP_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(t);
#else
  return t == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

at::ScalarType DtypeOf(c10::DeviceType t) {
#if KDEP_AUTOCAST_BY_DEVICE
  return at::autocast::get_autocast_dtype(t);
#else
  return t == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                   : at::autocast::get_autocast_gpu_dtype();
#endif
}

void Set(c10::DeviceType t, bool on, at::ScalarType dtype) {
#if KDEP_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(t, on);
  at::autocast::set_autocast_dtype(t, dtype);
#else
  if (t == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(on);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

// setAutocast(device, enabled, dtypeCode) → the previous [enabled, dtypeCode]. Turning it
// on counts a nesting level; turning off the outermost clears autocast's weight-cast cache.
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto t = DeviceOf(env, info[0]);
    bool on = info[1].As<Napi::Boolean>().Value();
    auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    auto prev = Napi::Array::New(env, 2);
    prev.Set(0u, Napi::Boolean::New(env, IsEnabled(t)));
    prev.Set(1u, Napi::Number::New(env, static_cast<int>(DtypeOf(t))));
    bool was = IsEnabled(t);
    Set(t, on, dtype);
    if (on && !was) {
      at::autocast::increment_nesting();
    } else if (!on && was && at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    return prev;
  });
}

}  // namespace

void ExportAutocast(Napi::Env env, Napi::Object exports) {
  exports.Set("setAutocast", Napi::Function::New(env, SetAutocast));
}

}  // namespace kdep
