// The caching CPU allocator (cpu_cache.cc): installCpuCache, cpuCacheStats, releaseCpuCache.
#pragma once
#include <napi.h>

namespace kdep {
void ExportCpuCache(Napi::Env env, Napi::Object exports);
}
