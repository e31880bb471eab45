// The kdep_image addon's functions (image_addon.cc registers them): JPEG decoding
// (jpeg.cc) and Pillow-exact resampling (resample.cc) for the data loader's workers.
#pragma once
#include <napi.h>

namespace kdep_image {
Napi::Value JpegHeader(const Napi::CallbackInfo& info);
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info);
Napi::Value ResizeBilinear(const Napi::CallbackInfo& info);
}  // namespace kdep_image
