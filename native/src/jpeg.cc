// JPEG decoding with the system libjpeg-turbo — the library Pillow links on Debian — for
// the data loader's workers (part of the kdep_image addon, see image.h).
//
// Why not sharp: its libvips pipeline costs 2-3x the decode itself per 500x375 image.
// Same library and the same settings as Pillow (ISLOW IDCT, fancy upsampling, libjpeg's
// own YCbCr->RGB), so pixels are identical to PIL's Image.open(f).convert("RGB").
//
// decodeJpeg can decode only a region: rows above it are skipped (entropy-decoded but
// not IDCT'd), columns outside it cropped to iMCU boundaries, and decoding stops after
// its last row. A margin of one iMCU around the region keeps the edge effects of chroma
// upsampling outside it, so the region's pixels equal those of a full decode (tested).
//
// Contract (see src/data/jpeg.ts): plain values in, plain values out; unsupported colour
// spaces (CMYK, YCCK) return null so the caller can fall back to another decoder.
#include <napi.h>

#include <csetjmp>
#include <cstdio>
#include <string>

#include <jpeglib.h>  // after cstdio: jpeglib.h needs FILE and size_t
#include <jerror.h>

#include "image.h"

namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void OnError(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  (*c->err->format_message)(c, e->message);
  longjmp(e->jump, 1);
}

// Warnings (corrupt-data notices) are ignored as Pillow ignores them, except a premature
// end of data: Pillow refuses truncated files ("image file is truncated").
void OnMessage(j_common_ptr c, int level) {
  if (level >= 0) return;
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  if (c->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
  c->err->num_warnings++;
}

// One decompression; everything libjpeg allocates is released by the destructor, and no
// C++ object with a destructor lives between setjmp and a longjmp into it.
struct Decoder {
  jpeg_decompress_struct cinfo{};
  ErrorMgr err{};
  Decoder() {
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = OnError;
    err.pub.emit_message = OnMessage;
    jpeg_create_decompress(&cinfo);
  }
  ~Decoder() { jpeg_destroy_decompress(&cinfo); }
};

const char* ColorSpaceName(J_COLOR_SPACE s) {
  switch (s) {
    case JCS_GRAYSCALE: return "gray";
    case JCS_RGB: return "rgb";
    case JCS_YCbCr: return "ycbcr";
    case JCS_CMYK: return "cmyk";
    case JCS_YCCK: return "ycck";
    default: return "unknown";
  }
}

bool Supported(J_COLOR_SPACE s) { return s == JCS_GRAYSCALE || s == JCS_RGB || s == JCS_YCbCr; }

Napi::Uint8Array Bytes(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "Expected a Uint8Array for bytes");
  }
  return info[0].As<Napi::Uint8Array>();
}

[[noreturn]] void Fail(Napi::Env env, const Decoder& d) {
  throw Napi::Error::New(env, d.err.truncated ? "image file is truncated" : d.err.message);
}

}  // namespace

namespace kdep_image {

// jpegHeader(bytes) -> { width, height, components, colorSpace, progressive }
Napi::Value JpegHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = Bytes(info);
  Decoder d;
  if (setjmp(d.err.jump)) Fail(env, d);
  jpeg_mem_src(&d.cinfo, bytes.Data(), bytes.ByteLength());
  jpeg_read_header(&d.cinfo, TRUE);
  Napi::Object out = Napi::Object::New(env);
  out.Set("width", d.cinfo.image_width);
  out.Set("height", d.cinfo.image_height);
  out.Set("components", d.cinfo.num_components);
  out.Set("colorSpace", ColorSpaceName(d.cinfo.jpeg_color_space));
  out.Set("progressive", static_cast<bool>(d.cinfo.progressive_mode));
  return out;
}

// decodeJpeg(bytes, left, top, width, height) -> { data, left, top, width, height } | null
// The returned RGB pixels cover at least the requested box; left/top say where they sit
// in the full image.
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = Bytes(info);
  for (size_t i = 1; i <= 4; i++) {
    if (info.Length() <= i || !info[i].IsNumber()) {
      throw Napi::TypeError::New(env, "Expected numbers for left, top, width, height");
    }
  }
  const long left = info[1].As<Napi::Number>().Int64Value();
  const long top = info[2].As<Napi::Number>().Int64Value();
  const long width = info[3].As<Napi::Number>().Int64Value();
  const long height = info[4].As<Napi::Number>().Int64Value();

  Decoder d;
  jpeg_decompress_struct& c = d.cinfo;
  if (setjmp(d.err.jump)) Fail(env, d);
  jpeg_mem_src(&c, bytes.Data(), bytes.ByteLength());
  jpeg_read_header(&c, TRUE);
  if (!Supported(c.jpeg_color_space)) return env.Null();
  const long W = c.image_width;
  const long H = c.image_height;
  if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > W || top + height > H) {
    throw Napi::RangeError::New(env, "region (" + std::to_string(left) + "," +
                                         std::to_string(top) + "," + std::to_string(width) +
                                         "x" + std::to_string(height) + ") outside " +
                                         std::to_string(W) + "x" + std::to_string(H) +
                                         " image");
  }
  c.out_color_space = JCS_RGB;  // gray and RGB sources too: libjpeg replicates / copies
  jpeg_start_decompress(&c);

  const long mx = c.max_h_samp_factor * DCTSIZE;
  const long my = c.max_v_samp_factor * DCTSIZE;
  const long x0 = left > mx ? left - mx : 0;
  const long x1 = left + width + mx < W ? left + width + mx : W;
  const long y0 = top > my ? top - my : 0;
  const long y1 = top + height + my < H ? top + height + my : H;
  JDIMENSION xoff = static_cast<JDIMENSION>(x0);
  JDIMENSION xw = static_cast<JDIMENSION>(x1 - x0);
  if (x0 > 0 || x1 < W) jpeg_crop_scanline(&c, &xoff, &xw);  // widens to iMCU bounds
  if (y0 > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(y0));

  const size_t stride = static_cast<size_t>(c.output_width) * 3;
  const long rows = y1 - y0;
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, stride * rows);
  auto* pixels = static_cast<uint8_t*>(buf.Data());
  while (static_cast<long>(c.output_scanline) < y1) {
    JSAMPROW row = pixels + stride * (c.output_scanline - y0);
    jpeg_read_scanlines(&c, &row, 1);
    if (d.err.truncated) Fail(env, d);
  }
  // Rows below the region are never decoded; abort instead of finish skips them.
  jpeg_abort_decompress(&c);

  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Uint8Array::New(env, stride * rows, buf, 0));
  out.Set("left", static_cast<double>(xoff));
  out.Set("top", static_cast<double>(y0));
  out.Set("width", static_cast<double>(c.output_width));
  out.Set("height", static_cast<double>(rows));
  return out;
}

}  // namespace kdep_image
