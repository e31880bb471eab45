// kdep_image: the data loader's native helpers, a separate addon from kdep_native so that
// a worker thread does not load libtorch to decode and resize images. See image.h.
#include <napi.h>

#include "image.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("jpegHeader", Napi::Function::New(env, kdep_image::JpegHeader));
  exports.Set("decodeJpeg", Napi::Function::New(env, kdep_image::DecodeJpeg));
  exports.Set("resizeBilinear", Napi::Function::New(env, kdep_image::ResizeBilinear));
  exports.Set("colorApply", Napi::Function::New(env, kdep_image::ColorApply));
  exports.Set("writeChw", Napi::Function::New(env, kdep_image::WriteChw));
  return exports;
}

}  // namespace

NODE_API_MODULE(kdep_image, Init)
