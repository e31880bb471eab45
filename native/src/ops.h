#pragma once
#include <napi.h>

namespace kdep {
Napi::Value LookupOp(const Napi::CallbackInfo& info);
Napi::Value CallOp(const Napi::CallbackInfo& info);
Napi::Value CallOpDiscard(const Napi::CallbackInfo& info);
}  // namespace kdep
