// Config files (JSON or YAML) merged under command-line flags, then validated by the
// command's schema: unknown keys are refused and every bad field is named.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { parseConfig } from "../pipelines/kdep/distillConfig.js";

export function loadConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read config ${path}: ${(e as Error).message}`);
  }
  const data: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`Config ${path} must hold an object of settings`);
  }
  return data as Record<string, unknown>;
}

/** Flags given on the command line win over the file; commander leaves others undefined. */
export function resolveConfig<S extends z.ZodType>(
  schema: S,
  flags: Record<string, unknown>,
  configPath?: string,
): z.infer<S> {
  const file = configPath ? loadConfigFile(configPath) : {};
  const given = Object.fromEntries(
    Object.entries(flags).filter(([k, v]) => v !== undefined && k !== "config"),
  );
  return parseConfig(
    schema,
    { ...file, ...given },
    configPath ? `${configPath} and the flags` : "the flags",
  );
}

export const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`Expected a number but received "${v}"`);
  return n;
};
export const int = (v: string): number => {
  const n = num(v);
  if (!Number.isInteger(n)) throw new Error(`Expected an integer but received "${v}"`);
  return n;
};
