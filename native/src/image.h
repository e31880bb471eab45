// The kdep_image addon's functions (image_addon.cc registers them) for the data loader's
// workers: JPEG decoding (jpeg.cc), Pillow-exact resampling (resample.cc), and the
// per-pixel loops of the fused colour path (color.cc).
#pragma once
#include <napi.h>

namespace kdep_image {
Napi::Value JpegHeader(const Napi::CallbackInfo& info);
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info);
Napi::Value ResizeBilinear(const Napi::CallbackInfo& info);
Napi::Value ColorApply(const Napi::CallbackInfo& info);
Napi::Value WriteChw(const Napi::CallbackInfo& info);
}  // namespace kdep_image
