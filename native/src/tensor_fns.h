#pragma once
#include <napi.h>

namespace kdep {
#define KDEP_FNS(X)                                                                                    \
  X(FromBuffer) X(ToBuffer) X(ExternalView) X(Meta) X(Strides) X(StorageOffset) X(DataPtr)            \
  X(IsContiguous) X(Item) X(RequiresGrad) X(SetRequiresGrad) X(IsLeaf) X(Grad) X(SetGrad)             \
  X(RetainGrad) X(GradFnName) X(Backward) X(IsHandleFn) X(LiveCountFn) X(SetNumThreads) \
  X(GetNumThreads) X(ManualSeed) X(GetRngState) X(SetRngState) X(SetGradEnabled) X(IsGradEnabled)     \
  X(EnterInferenceMode) X(ExitInferenceMode) X(IsInferenceTensor) X(CudaDeviceCount) X(Version) X(TuneAllocator)
#define KDEP_DECLARE(name) Napi::Value name(const Napi::CallbackInfo& info);
KDEP_FNS(KDEP_DECLARE)
#undef KDEP_DECLARE
}  // namespace kdep
