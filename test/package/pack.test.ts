// The package as a user gets it: `npm pack`, then an empty project installs the tarball
// with no registry (dependencies from the npm cache), the install hook builds the native
// addon, and a small consumer imports the public API, type-checks against its declarations
// and runs; the `kdep` bin answers --help.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { consumerLock } from "./lockfile.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const dir = mkdtempSync(join(tmpdir(), "kdep-pack-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// A clean environment: no npm_* variables of an enclosing `npm test` leak into the child npm,
// except where the cache and user config are (the cache the project's npm ci filled).
const KEEP = new Set(["npm_config_cache", "npm_config_userconfig"]);
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.toLowerCase().startsWith("npm_") || KEEP.has(k.toLowerCase()),
  ),
);
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const CONSUMER = `
import { type Backbone, createModel, type DistillOptions, exportOnnx, listModels, nn, noGrad,
  optim, PSPNet, randn, runDistill, runSegmentation, type SegmentationOptions, tidy } from "kdep";
const m: Backbone = createModel("resnet18", { numClasses: 3, width: 8 });
m.eval();
const shape: number[] = tidy(() => noGrad(() => m.forward(randn([2, 3, 32, 32])).shape));
const options: DistillOptions = { data: "images", epochs: 1 };
const seg: SegmentationOptions = { dataset: "folder", data: "seg", backbone: "mobilenet_v2" };
const psp: PSPNet = new PSPNet({ backbone: "resnet18", numClasses: 2, width: 8 });
const sgd = new optim.SGD(new nn.Linear(4, 2).parameters(), { lr: 0.1 });
console.log(JSON.stringify({ shape, models: listModels().length, epochs: options.epochs,
  functions: [exportOnnx, runDistill, runSegmentation, sgd.step].map((f) => typeof f),
  seg: seg.backbone, psp: psp.numClasses }));
`;

describe("npm pack", () => {
  it("installs offline into an empty project, builds the addon, imports and type-checks", () => {
    run("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], ROOT);
    const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tgz, "npm pack wrote no tarball");
    const app = join(dir, "app");
    mkdirSync(app);
    const spec = `file:../${tgz}`;
    const { lock, dependencies } = consumerLock(
      join(ROOT, "package-lock.json"),
      join(dir, tgz),
      spec,
    );
    // npm ≥ 11 runs a dependency's install script only when the project allows it.
    const pkg = {
      name: "consumer",
      private: true,
      type: "module",
      dependencies,
      allowScripts: { [spec]: true },
    };
    writeFileSync(join(app, "package.json"), JSON.stringify(pkg, null, 2));
    writeFileSync(join(app, "package-lock.json"), JSON.stringify(lock, null, 2));
    run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], app);
    const release = join(app, "node_modules", "kdep", "native", "build", "Release");
    assert.ok(existsSync(join(release, "kdep_native.node")), "the install hook built no addon");

    writeFileSync(join(app, "main.ts"), CONSUMER);
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        outDir: "out",
        types: ["node"],
      },
      files: ["main.ts"],
    };
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify(tsconfig));
    run(process.execPath, [TSC, "-p", "."], app);
    const out = JSON.parse(run(process.execPath, ["out/main.js"], app));
    assert.deepEqual(out, {
      shape: [2, 3],
      models: 6,
      epochs: 1,
      functions: ["function", "function", "function", "function"],
      seg: "mobilenet_v2",
      psp: 2,
    });
    assert.match(run(join(app, "node_modules", ".bin", "kdep"), ["--help"], app), /export/);
  });
});
