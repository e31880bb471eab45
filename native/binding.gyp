{
  "targets": [
    {
      "target_name": "kdep_native",
      "sources": ["src/addon.cc", "src/handle.cc", "src/ops.cc", "src/unboxed.cc", "src/tensor_fns.cc", "src/cpu_cache.cc", "src/autocast.cc", "src/library.cc", "src/dist.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node config.cjs includes)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node config.cjs defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<!@(node config.cjs libs)"]
    },
    {
      "target_name": "kdep_image",
      "sources": ["src/image_addon.cc", "src/jpeg.cc", "src/resample.cc", "src/color.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off", "-Wno-clobbered"],
      "libraries": ["-ljpeg"]
    }
  ]
}
