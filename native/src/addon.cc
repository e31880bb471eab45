// The whole native contract: see src/native/binding.ts for its typed TypeScript face.
#include <ATen/Parallel.h>
#include <napi.h>

#include "autocast.h"
#include "cpu_cache.h"
#include "ops.h"
#include "tensor_fns.h"

namespace kdep {
Napi::Value LoadLibrary(const Napi::CallbackInfo& info);  // library.cc
void ExportDist(Napi::Env env, Napi::Object exports);      // dist.cc
}  // namespace kdep

namespace {

std::string LowerFirst(std::string s) {
  s[0] = static_cast<char>(std::tolower(s[0]));
  return s;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  at::init_num_threads();
  exports.Set("lookupOp", Napi::Function::New(env, kdep::LookupOp));
  kdep::ExportHotPaths(env, exports);
  kdep::ExportCpuCache(env, exports);
  kdep::ExportAutocast(env, exports);
  exports.Set("loadLibrary", Napi::Function::New(env, kdep::LoadLibrary));
  kdep::ExportDist(env, exports);
#define KDEP_EXPORT(name)                                                    \
  {                                                                          \
    std::string key = LowerFirst(#name);                                     \
    if (key.size() > 2 && key.compare(key.size() - 2, 2, "Fn") == 0) key.resize(key.size() - 2); \
    exports.Set(key, Napi::Function::New(env, kdep::name));                  \
  }
  KDEP_FNS(KDEP_EXPORT)
#undef KDEP_EXPORT
  return exports;
}

}  // namespace

NODE_API_MODULE(kdep_native, Init)
