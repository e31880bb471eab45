// npm's install hook: builds the two addons (node-gyp, against libtorch as config.cjs finds
// it) unless they are already built, so reinstalling dependencies in a checkout that
// scripts/setup.sh has built costs nothing.
const { existsSync } = require("node:fs");
const { availableParallelism } = require("node:os");
const { join } = require("node:path");
const { spawnSync } = require("node:child_process");

const release = join(__dirname, "build", "Release");
if (["kdep_native.node", "kdep_image.node"].every((f) => existsSync(join(release, f)))) {
  process.exit(0);
}
const args = ["rebuild", "--directory", __dirname, "-j", String(Math.min(availableParallelism(), 8))];
// npm hands lifecycle scripts the path of its own node-gyp; fall back to one on PATH.
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: "inherit" })
  : spawnSync("node-gyp", args, { stdio: "inherit", shell: true });
if (r.status !== 0) {
  console.error(
    "kdep: building the native addon failed. It needs libtorch (Debian: libtorch-dev, or " +
      "LIBTORCH=/path/to/libtorch), libjpeg-turbo headers (libjpeg62-turbo-dev) and a C++17 " +
      "compiler; see docs/install.md.",
  );
}
process.exit(r.status ?? 1);
