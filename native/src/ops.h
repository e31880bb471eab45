#pragma once
#include <napi.h>

namespace kdep {
Napi::Value LookupOp(const Napi::CallbackInfo& info);
// callOp, callOpDiscard and dispose: raw N-API callbacks bound to this thread's handle table.
void ExportHotPaths(Napi::Env env, Napi::Object exports);
}  // namespace kdep
