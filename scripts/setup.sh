#!/usr/bin/env bash
# Installs and builds everything kdep needs on Debian 12; safe to run again (each step is
# skipped when already done). Needs root (or sudo) for apt, and Node.js >= 20.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. System packages: libtorch to build against, PyTorch as the test/benchmark reference,
#    Fashion-MNIST as the demo's offline data, a C++ toolchain for the addons,
#    libjpeg-turbo (the loader's JPEG decoder, the same library Pillow uses), python3-onnx
#    (the checker the ONNX export tests run), python3-scipy (the t-test reference of the
#    demo's verdict tests), Gloo's headers (libtorch's distributed process group on CPU),
#    python3-opencv (the photometric distortion's test reference).
#    Debian's libtorch calls BLAS/LAPACK through the system alternative, which is the
#    reference implementation unless an optimised one is installed: OpenBLAS (OpenMP build,
#    the same runtime as libtorch's threads) makes XᵀX of the SVD pass ~20× faster, for
#    PyTorch too.
PKGS=(libtorch-dev python3-torch python3-torchvision python3-numpy python3-pil
      libopenblas0-openmp dataset-fashion-mnist g++ make python3 libjpeg62-turbo-dev
      python3-onnx python3-scipy libgloo-dev python3-opencv)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Node.js >= 20 (Debian 12's own nodejs is 18, too old for the dependencies).
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "kdep needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# 3. npm dependencies, reinstalled only when the lock file changed.
stamp=node_modules/.kdep-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  say "npm ci"
  # onnxruntime-node (a dev dependency, the ONNX export tests' runtime) ships its CPU
  # runtime; this stops its install script fetching CUDA libraries with npm <= 10 (npm 11
  # obeys package.json's allowScripts instead).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > "$stamp"
fi

# 4. The native addons (make rebuilds only what changed; LIBTORCH=/path selects another
#    libtorch; a changed binding.gyp, e.g. a new target, needs a new configure).
if [ ! -f native/build/Makefile ] || [ native/binding.gyp -nt native/build/Makefile ] ||
   [ "${LIBTORCH:-}" != "$(cat native/build/.libtorch 2>/dev/null || true)" ]; then
  say "configuring the native addon${LIBTORCH:+ against $LIBTORCH}"
  npx node-gyp configure --directory native >/dev/null
  printf '%s' "${LIBTORCH:-}" > native/build/.libtorch
fi
say "building the native addon"
npx node-gyp build --directory native -j "$(nproc)" >/dev/null

# 5. TypeScript.
say "compiling TypeScript"
npx tsc -p tsconfig.json
