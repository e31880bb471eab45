// Prints the compiler/linker settings for the libtorch the addon is built against.
// Default: Debian's libtorch-dev (headers in /usr/include, libraries on the system path).
// LIBTORCH=/path/to/libtorch selects an official CPU or CUDA build (1.13 or 2.x).
const fs = require("node:fs");
const path = require("node:path");
const root = process.env.LIBTORCH || "";
const what = process.argv[2];
const out = [];

// NCCL's process group: compiled in against a CUDA libtorch (lib/libtorch_cuda.so) when
// nccl.h is found (libtorch's include/, $CUDA_HOME/include, /usr/local/cuda/include,
// /usr/include). KDEP_NCCL=0 leaves it out; KDEP_NCCL=1 insists, and fails without nccl.h.
function nccl() {
  const want = process.env.KDEP_NCCL;
  const cudaTorch = root !== "" && fs.existsSync(path.join(root, "lib", "libtorch_cuda.so"));
  if (want === "0" || (!cudaTorch && want !== "1")) return null;
  const cuda = process.env.CUDA_HOME || "/usr/local/cuda";
  const dirs = [root && path.join(root, "include"), path.join(cuda, "include"), "/usr/include"];
  const found = dirs.filter(Boolean).find((d) => fs.existsSync(path.join(d, "nccl.h")));
  if (!found && want === "1")
    throw new Error(`KDEP_NCCL=1 but nccl.h is in none of ${dirs.filter(Boolean).join(", ")}`);
  return found ? { include: [found, path.join(cuda, "include")] } : null;
}
const withNccl = nccl();
if (what === "includes") {
  if (root) out.push(path.join(root, "include"), path.join(root, "include/torch/csrc/api/include"));
  else out.push("/usr/include/torch/csrc/api/include");
  if (withNccl) out.push(...withNccl.include);
} else if (what === "libs") {
  if (root) {
    const lib = path.join(root, "lib");
    out.push(`-L${lib}`, `-Wl,-rpath,${lib}`);
    // CUDA kernels register themselves at load time: keep torch_cuda linked even though no
    // symbol of it is referenced directly.
    if (fs.existsSync(path.join(lib, "libtorch_cuda.so"))) out.push("-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed");
    // ProcessGroupNCCL's inline code calls c10's CUDA streams.
    if (withNccl && fs.existsSync(path.join(lib, "libc10_cuda.so"))) out.push("-lc10_cuda");
  }
  out.push("-ltorch", "-ltorch_cpu", "-lc10");
} else if (what === "defines") {
  // Official pre-cxx11 builds need ABI 0; Debian's and the cxx11 builds use 1.
  out.push(`_GLIBCXX_USE_CXX11_ABI=${process.env.TORCH_CXX11_ABI ?? "1"}`);
  // c10d's Gloo process group needs Gloo's headers (Debian: libgloo-dev; official builds
  // ship them under include/gloo).
  const glooDir = root ? path.join(root, "include/gloo") : "/usr/include/gloo";
  if (fs.existsSync(glooDir)) out.push("USE_C10D_GLOO");
  if (withNccl) out.push("USE_C10D_NCCL", "KDEP_WITH_NCCL");
}
console.log(out.join(" "));
