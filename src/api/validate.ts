// Options of the API functions are plain objects checked by the same zod schemas the CLI
// checks its flags and config files with: an unknown key or a bad value is refused before
// anything is written, naming the key.
import type { z } from "zod";

/** Parses `options` with `schema` or throws one error listing every bad key. */
export function validateOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  what: string,
): z.infer<S> {
  const r = schema.safeParse(options ?? {});
  if (r.success) return r.data;
  const raw = (options ?? {}) as Record<string, unknown>;
  const lines = r.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `  ${issue.keys.join(", ")}: unknown option`;
    const key = issue.path.map(String).join(".") || "(options)";
    const top = String(issue.path[0] ?? "");
    const got = top in raw ? `; got ${JSON.stringify(raw[top])}` : "";
    return `  ${key}: ${issue.message}${got}`;
  });
  throw new Error(`Invalid options for ${what}:\n${lines.join("\n")}`);
}
