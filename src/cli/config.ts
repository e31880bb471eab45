// Config files (JSON or YAML) merged under command-line flags, then validated by the
// command's schema. Precedence: flags > config file > the schema's defaults (the paper's
// recipe). Unknown keys are refused, and every bad field is named with where it came from.
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { suggestKey } from "./suggest.js";

export function loadConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read config ${path}: ${(e as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let data: unknown;
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new Error(
      `Config ${path} is not valid ${yaml ? "YAML" : "JSON"}: ${(e as Error).message}`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`Config ${path} must hold an object of settings`);
  }
  return data as Record<string, unknown>;
}

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Resolves flags over an optional config file over the schema's defaults, validated. */
export function resolveConfig<S extends z.ZodType>(
  schema: S,
  flags: Record<string, unknown>,
  configPath?: string,
): z.infer<S> {
  const file = configPath ? loadConfigFile(configPath) : {};
  // Commander leaves flags that were not given undefined.
  const given = Object.fromEntries(
    Object.entries(flags).filter(([k, v]) => v !== undefined && k !== "config"),
  );
  const raw: Record<string, unknown> = { ...file, ...given };
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  const from = (key: string) =>
    key in given ? `from ${flagName(key)}` : key in file ? `in ${configPath}` : "default";
  const lines: string[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const hint = suggestKey(key, known);
        lines.push(
          `  ${key}: unknown setting (${from(key)})${hint ? `; did you mean "${hint}"?` : ""}`,
        );
      }
      continue;
    }
    const key = issue.path.map(String).join(".") || "(config)";
    const top = String(issue.path[0] ?? "");
    const value = top in raw ? `; got ${JSON.stringify(raw[top])}` : "";
    lines.push(`  ${key}: ${issue.message}${value} (${from(top)})`);
  }
  const where = configPath ? `${configPath} and the flags` : "the flags";
  throw new Error(`Invalid configuration in ${where}:\n${lines.join("\n")}`);
}

// Commander reports an InvalidArgumentError naming the option and the value.
export const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Expected a number.");
  return n;
};
export const int = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n))
    throw new InvalidArgumentError("Expected an integer.");
  return n;
};
