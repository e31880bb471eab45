// Opaque tensor handles: a napi External holding an at::Tensor; only Externals created here
// are accepted, so a foreign object can never be mistaken for a tensor.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

namespace kdep {

struct TensorBox {
  at::Tensor t;
  int64_t reported = 0;  // bytes reported to V8 as external memory
  bool disposed = false;
};

// Wraps a tensor in a new handle. An undefined tensor becomes null.
Napi::Value Wrap(Napi::Env env, at::Tensor t);
// The live tensor behind a handle; throws a TypeError naming `what` otherwise.
at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, const char* what);
bool IsHandle(Napi::Env env, const Napi::Value& v);
void Dispose(Napi::Env env, const Napi::Value& v);
int64_t LiveCount();

// Converts C++ exceptions (libtorch's included) into JS errors; the process never aborts.
template <typename F>
Napi::Value Guard(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace kdep
