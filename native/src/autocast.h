// Autocast switches (autocast.cc): setAutocast.
#pragma once
#include <napi.h>

namespace kdep {
void ExportAutocast(Napi::Env env, Napi::Object exports);
}
