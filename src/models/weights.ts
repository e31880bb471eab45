// Where weights come from: a local file, an http(s) URL, or `torchvision:<arch>` (the
// published ImageNet weights). Downloads go to the cache folder and are verified: the
// torch.hub convention puts the first hex digits of the file's SHA-256 in its name.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { loadStateDictFile } from "../io/tensors.js";
import type { Module } from "../nn/module.js";
import type { Backbone } from "./backbone.js";
import { describeFetchError, offlineRemedy } from "./fetchErrors.js";
import { createModel, type ModelOptions } from "./registry.js";
import { widthOptionsFromWeights } from "./widthFromWeights.js";

/** torchvision's IMAGENET1K_V1 weights (the ones KDEP's SP-R50 teacher is). */
export const TORCHVISION_WEIGHTS: Record<string, string> = {
  resnet18: "resnet18-f37072fd.pth",
  resnet34: "resnet34-b627a593.pth",
  resnet50: "resnet50-0676ba61.pth",
  resnet101: "resnet101-63fe2227.pth",
  resnet152: "resnet152-394f9c45.pth",
  mobilenet_v2: "mobilenet_v2-b0353104.pth",
};

export function cacheDir(): string {
  const base =
    process.env.KDEP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kdep");
  mkdirSync(base, { recursive: true });
  return base;
}

export function torchvisionBaseUrl(): string {
  return process.env.KDEP_TORCHVISION_URL ?? "https://download.pytorch.org/models";
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** The hash prefix torch.hub file names carry (`name-<hex>.ext`), if any. */
export function hashPrefixOf(file: string): string | null {
  const m = /-([a-f0-9]{6,64})\.[A-Za-z0-9]+$/.exec(file);
  return m ? m[1] : null;
}

/** Downloads url to dest (via a temp file), checking the SHA-256 prefix when given. */
export async function download(
  url: string,
  dest: string,
  expectPrefix: string | null,
  log = (s: string) => process.stderr.write(s),
): Promise<void> {
  const fail = (why: string) =>
    new Error(`Could not download ${url}: ${why}. ${offlineRemedy(url, dest)}`);
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw fail(describeFetchError(e, host));
  }
  if (!res.ok || !res.body) throw fail(`the server answered HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get("content-length") ?? 0);
  const tmp = `${dest}.${process.pid}.part`;
  const fh = await open(tmp, "w");
  const h = createHash("sha256");
  let got = 0;
  let lastReport = 0;
  try {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        await fh.write(chunk);
        got += chunk.length;
        if (Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          log(
            `downloading ${basename(dest)}: ${(got / 2 ** 20).toFixed(1)}${total ? ` / ${(total / 2 ** 20).toFixed(1)}` : ""} MiB\n`,
          );
        }
      }
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fail(`the transfer broke off after ${got} bytes: ${describeFetchError(e, host)}`);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const digest = h.digest("hex");
  if (expectPrefix && !digest.startsWith(expectPrefix)) {
    rmSync(tmp, { force: true });
    throw fail(
      `Checksum mismatch: SHA-256 ${digest} does not start with ${expectPrefix} ` +
        "(the file is damaged, or not the one its name promises)",
    );
  }
  renameSync(tmp, dest);
}

/** A weights spec resolved to a local file by {@link resolveWeights}. */
export interface ResolvedWeights {
  path: string;
  /** Stable identity of the weights: the first 16 hex digits of their SHA-256. */
  hash: string;
  source: string;
}

/** Resolves a weights spec to a local, verified file (downloading into the cache if needed). */
export async function resolveWeights(spec: string): Promise<ResolvedWeights> {
  let url: string | null = null;
  let file: string;
  if (spec.startsWith("torchvision:")) {
    const arch = spec.slice("torchvision:".length);
    const name = TORCHVISION_WEIGHTS[arch];
    if (!name)
      throw new Error(
        `No torchvision weights known for "${arch}"; known: ${Object.keys(TORCHVISION_WEIGHTS).join(", ")}`,
      );
    url = `${torchvisionBaseUrl()}/${name}`;
    file = join(cacheDir(), "weights", name);
  } else if (/^https?:\/\//.test(spec)) {
    url = spec;
    const name = basename(new URL(spec).pathname) || "weights.pth";
    const tag = createHash("sha256").update(spec).digest("hex").slice(0, 12);
    file = join(cacheDir(), "weights", `${tag}-${name}`);
  } else {
    if (!existsSync(spec) || !statSync(spec).isFile())
      throw new Error(`Weights file not found: ${spec}`);
    return { path: spec, hash: (await sha256File(spec)).slice(0, 16), source: spec };
  }
  const expect = hashPrefixOf(basename(new URL(url).pathname));
  if (!existsSync(file)) {
    mkdirSync(join(cacheDir(), "weights"), { recursive: true });
    await download(url, file, expect);
  }
  const digest = await sha256File(file);
  if (expect && !digest.startsWith(expect)) {
    throw new Error(
      `Cached ${file} is corrupt (SHA-256 ${digest} does not start with ${expect}); delete it to download again`,
    );
  }
  return { path: file, hash: digest.slice(0, 16), source: spec };
}

/** Loads weights from any checkpoint we read into a model; returns the unwrap report. */
export function loadWeightsInto(
  model: Module,
  path: string,
  opts: { strict?: boolean } = {},
): string[] {
  const { stateDict, report } = loadStateDictFile(path);
  const r = model.loadStateDict(stateDict, { strict: opts.strict ?? true });
  for (const t of stateDict.values()) t.dispose();
  if (r.missingKeys.length)
    report.push(`missing keys left at their initial values: ${r.missingKeys.join(", ")}`);
  if (r.unexpectedKeys.length) report.push(`ignored keys: ${r.unexpectedKeys.join(", ")}`);
  return report;
}

/**
 * Builds `arch` at the width its weights were trained at (read from their shapes, unless
 * `opts` states it) and loads them; returns the model and the unwrap/load report.
 */
export function createModelWithWeights(
  arch: string,
  opts: ModelOptions,
  path: string,
  loadOpts: { strict?: boolean } = {},
): { model: Backbone; report: string[] } {
  const { stateDict, report } = loadStateDictFile(path);
  try {
    const stated = opts.width !== undefined || opts.widthMult !== undefined;
    const width = stated ? {} : widthOptionsFromWeights(arch, stateDict, path);
    const model = createModel(arch, { ...opts, ...width });
    if (width.widthMult !== undefined) report.push(`width multiplier ${width.widthMult}`);
    const r = model.loadStateDict(stateDict, { strict: loadOpts.strict ?? true });
    if (r.missingKeys.length)
      report.push(`missing keys left at their initial values: ${r.missingKeys.join(", ")}`);
    if (r.unexpectedKeys.length) report.push(`ignored keys: ${r.unexpectedKeys.join(", ")}`);
    return { model, report };
  } finally {
    for (const t of stateDict.values()) t.dispose();
  }
}
