// Opaque tensor handles: a JS number that names a slot of a per-thread table of tensors.
// A number is a handle only if it carries our tag and the slot's current generation, so a
// foreign number, or a handle whose tensor was disposed (even if its slot has since been
// reused), can never be mistaken for a live tensor.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

namespace kdep {

// The handle table of one JS thread (main thread or a worker): handles never cross threads.
struct Table;
// This thread's table. Hot entry points get it once, as their callback data, instead of
// paying a thread-local lookup per argument.
Table& ThreadTable();

// Lowest level, for the op-call hot path. The tensor a number names, or nullptr; `ours`
// tells whether the number is one of our handles at all (live or disposed).
at::Tensor* Find(Table& tb, double h, bool* ours);
// The live tensor a JS value names, or nullptr (not a number, not a handle, or disposed):
// one N-API call, for the hot path; callers fall back to Unwrap for the error's wording.
at::Tensor* FindValue(napi_env env, Table& tb, napi_value v);
// Stores a tensor (defined) and returns its handle value.
double Insert(Table& tb, napi_env env, at::Tensor t);
// Frees the tensor behind a handle; false when it was already freed. Throws for a number
// that is not a handle.
bool Release(Table& tb, napi_env env, double h);

// Wraps a tensor in a new handle. An undefined tensor becomes null.
Napi::Value Wrap(Napi::Env env, at::Tensor t);
// The live tensor behind a handle; throws a TypeError naming `what` otherwise.
at::Tensor& Unwrap(Napi::Env env, const Napi::Value& v, const char* what);
// The error Unwrap throws for a value that is not a live handle.
[[noreturn]] void ThrowNotTensor(Napi::Env env, const Napi::Value& v, const char* what);
bool IsHandle(Napi::Env env, const Napi::Value& v);
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
