// Loads a shared library of extra operators into the process, as torch.ops.load_library
// does: dlopen with RTLD_GLOBAL, whose static initialisers register the library's schemas,
// kernels and autograd with the dispatcher (torchvision's _C: torchvision::nms, roi_align,
// ...). Which file to load is decided in TypeScript.
#include <dlfcn.h>
#include <napi.h>

#include <string>

namespace kdep {

Napi::Value LoadLibrary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "loadLibrary: expected the path of a shared library");
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Napi::Error::New(env, "Cannot load " + path + ": " + (why ? why : "unknown dlopen error"));
  }
  // Never dlclose: the dispatcher keeps pointers to the library's kernels.
  return Napi::Boolean::New(env, true);
}

}  // namespace kdep
