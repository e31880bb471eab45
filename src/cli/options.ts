// One option model for every command. A command is a zod object schema plus a handler:
// each field's type, default, bounds and help (`.describe()`) are stated once, in the
// schema, and the commander options, the help text with its defaults, the config-file
// keys and the error messages are all derived from it. Adding a command:
//
//   export const fooCommand = defineCommand({
//     name: "foo", description: "…", config: true,          // config: takes --config
//     schema: z.object({ epochs: z.number().int().positive().default(10).describe("epochs") }).strict(),
//     run: async (s) => { … s.epochs … },
//   });
//   // and one line in main.ts: registerCommand(program, fooCommand)
//
// Precedence: flags > config file > the schema's defaults. Flags are kebab-case
// (--batch-size), config keys camelCase (batchSize).
import { type Command, Option } from "commander";
import { z } from "zod";
import { loadConfigFile } from "./config.js";
import { suggestKey } from "./suggest.js";

/** A mistake in how the command was called: printed as one line, exit code 1. */
export class UsageError extends Error {}

export type Settings = z.ZodObject;

export interface CommandSpec<S extends Settings> {
  /** "distill"; a sub-command is registered on its group ("cls" on `transfer`). */
  name: string;
  description: string;
  schema: S;
  /** Keys given as positional arguments, in order (`kdep subset <src> <dst>`). */
  args?: readonly (keyof z.infer<S> & string)[];
  /** Training commands read a JSON/YAML file of settings with --config. */
  config?: boolean;
  /** Extra help after the options. */
  after?: string;
  run(settings: z.infer<S>): Promise<void> | void;
}

export const defineCommand = <S extends Settings>(spec: CommandSpec<S>): CommandSpec<S> => spec;

/** What a schema field says about itself, unwrapped from default/optional. */
export interface SettingInfo {
  key: string;
  flag: string;
  kind: "number" | "integer" | "string" | "boolean" | "enum" | "list";
  help: string;
  /** The default (undefined when none). */
  default?: unknown;
  required: boolean;
  choices?: readonly string[];
  /** "> 0", "≥ 0 and ≤ 1" … */
  bounds?: string;
  /** The flag's value placeholder, from the field's `.meta({ arg })` ("dir" → <dir>). */
  arg?: string;
}

export const flagOf = (key: string): string =>
  `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

interface ZodInternals {
  _zod: {
    def: {
      type: string;
      innerType?: z.ZodType;
      defaultValue?: unknown;
      checks?: Array<{ _zod: { def: { check: string; value?: number; inclusive?: boolean } } }>;
      element?: z.ZodType;
    };
  };
  description?: string;
  options?: readonly string[];
  isInt?: boolean;
}

export function settingInfo(key: string, field: z.ZodType): SettingInfo {
  let node = field as unknown as ZodInternals;
  const argOf = (n: ZodInternals) =>
    (z.globalRegistry.get(n as unknown as z.ZodType) as { arg?: string } | undefined)?.arg;
  let help = node.description;
  let arg = argOf(node);
  let dflt: unknown;
  let optional = false;
  for (;;) {
    const def = node._zod.def;
    if (def.type === "default") dflt = def.defaultValue;
    else if (def.type === "optional") optional = true;
    else break;
    node = def.innerType as unknown as ZodInternals;
    help ??= node.description;
    arg ??= argOf(node);
  }
  const t = node._zod.def.type;
  const kind: SettingInfo["kind"] =
    t === "number"
      ? node.isInt
        ? "integer"
        : "number"
      : t === "boolean"
        ? "boolean"
        : t === "enum"
          ? "enum"
          : t === "array"
            ? "list"
            : "string";
  const bounds = (node._zod.def.checks ?? [])
    .map((c) => c._zod.def)
    .map((c) =>
      c.check === "greater_than"
        ? `${c.inclusive ? "≥" : ">"} ${c.value}`
        : c.check === "less_than"
          ? `${c.inclusive ? "≤" : "<"} ${c.value}`
          : "",
    )
    .filter(Boolean)
    .join(" and ");
  return {
    key,
    flag: kind === "boolean" && dflt === true ? `--no-${flagOf(key).slice(2)}` : flagOf(key),
    kind,
    help: help ?? key,
    default: dflt,
    required: dflt === undefined && !optional && kind !== "boolean",
    choices: kind === "enum" ? node.options : undefined,
    bounds: bounds || undefined,
    arg,
  };
}

export const settingsOf = (schema: Settings): SettingInfo[] =>
  Object.entries(schema.shape).map(([k, v]) => settingInfo(k, v as z.ZodType));

const showDefault = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v));

/** The help line of a setting: its description, type and bounds, and its default. */
export function helpLine(s: SettingInfo): string {
  const type = [
    s.kind === "integer" ? "integer" : s.kind === "number" ? "number" : "",
    s.bounds ?? "",
  ]
    .filter(Boolean)
    .join(" ");
  const extra = [
    type,
    s.choices && !shortChoices(s) ? `one of: ${s.choices.join(", ")}` : "",
    s.required ? "required" : "",
    s.default !== undefined ? `default: ${showDefault(s.default)}` : "",
  ].filter(Boolean);
  return extra.length ? `${s.help} (${extra.join("; ")})` : s.help;
}

/** Long choice lists go into the help text, not the placeholder. */
const shortChoices = (s: SettingInfo) => s.choices !== undefined && s.choices.join("").length <= 16;

function placeholder(s: SettingInfo): string {
  if (s.arg) return `<${s.arg}>`;
  if (s.kind === "integer") return "<n>";
  if (s.kind === "number") return "<x>";
  if (s.kind === "enum") return shortChoices(s) ? `<${s.choices!.join("|")}>` : "<name>";
  if (s.kind === "list") return "<a,b,…>";
  return "<value>";
}

/** A flag's text → the schema's type (bad text is left as is, for zod to name). */
function fromFlag(s: SettingInfo, v: unknown): unknown {
  if (typeof v !== "string") return v;
  if (s.kind === "number" || s.kind === "integer") {
    const n = Number(v);
    return v.trim() !== "" && Number.isFinite(n) ? n : v;
  }
  if (s.kind === "list") return v.split(",").filter((x) => x !== "");
  return v;
}

/** Where each given value came from, for messages. */
export interface Sources {
  flags: Record<string, unknown>;
  args?: Record<string, unknown>;
  configPath?: string;
  /** The command takes --config (said in the "required" message). */
  configurable?: boolean;
}

/** Resolves flags and arguments over an optional config file over the defaults. */
export function resolveSettings<S extends Settings>(schema: S, src: Sources): z.infer<S> {
  const infos = new Map(settingsOf(schema).map((s) => [s.key, s]));
  const file = src.configPath ? loadConfigFile(src.configPath) : {};
  const cli = { ...src.flags, ...src.args };
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cli)) {
    const info = infos.get(k);
    if (v !== undefined && info) given[k] = fromFlag(info, v);
  }
  const raw: Record<string, unknown> = { ...file, ...given };
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const from = (key: string) =>
    src.args && key in src.args
      ? `argument <${key}>`
      : key in given
        ? `from ${infos.get(key)?.flag ?? flagOf(key)}`
        : key in file
          ? `in ${src.configPath}`
          : "default";
  const problems: string[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const hint = suggestKey(key, [...infos.keys()]);
        problems.push(
          `${key}: unknown setting (${from(key)})${hint ? `; did you mean "${hint}"?` : ""}`,
        );
      }
      continue;
    }
    const key = issue.path.map(String).join(".") || "(config)";
    const top = String(issue.path[0] ?? "");
    if (!(top in raw) && infos.get(top)?.required) {
      const alt = src.configurable ? ` or ${top} in --config` : "";
      problems.push(`${key}: required; give ${infos.get(top)!.flag}${alt}`);
      continue;
    }
    const value = top in raw ? `; got ${JSON.stringify(raw[top])}` : "";
    problems.push(`${key}: ${issue.message}${value} (${from(top)})`);
  }
  const where = src.configPath ? `${src.configPath} and the flags` : "the flags";
  throw new UsageError(`Invalid configuration in ${where}: ${problems.join("; ")}`);
}

const CONFIG_HELP = `
Settings: a flag wins over the same key in --config (JSON or YAML), which wins over the
default. Config keys are the settings' names in camelCase, e.g. "batchSize: 64" for
--batch-size. Unknown keys and bad values are refused, naming the key.
`;

/** Adds `spec` to `parent` (the program, or a group such as `transfer`). */
export function registerCommand<S extends Settings>(
  parent: Command,
  spec: CommandSpec<S>,
): Command {
  const cmd = parent.command(spec.name).description(spec.description);
  const infos = settingsOf(spec.schema);
  const args = new Set<string>(spec.args ?? []);
  for (const key of spec.args ?? []) {
    const s = infos.find((i) => i.key === key)!;
    cmd.argument(s.required ? `<${key}>` : `[${key}]`, helpLine(s));
  }
  if (spec.config)
    cmd.option("--config <file>", "JSON or YAML file of settings (keys as below, camelCased)");
  for (const s of infos) {
    if (args.has(s.key)) continue;
    const text = s.kind === "boolean" ? s.flag : `${s.flag} ${placeholder(s)}`;
    cmd.addOption(new Option(text, helpLine(s)));
  }
  if (spec.config || spec.after)
    cmd.addHelpText("after", `${spec.config ? CONFIG_HELP : ""}${spec.after ?? ""}`);
  cmd.action(async (...params: unknown[]) => {
    const flags: Record<string, unknown> = {};
    const opts = cmd.opts();
    for (const s of infos) {
      if (!args.has(s.key) && cmd.getOptionValueSource(s.key) === "cli") flags[s.key] = opts[s.key];
    }
    const values: Record<string, unknown> = {};
    (spec.args ?? []).forEach((key, i) => {
      if (params[i] !== undefined) values[key] = params[i];
    });
    const settings = resolveSettings(spec.schema, {
      flags,
      args: spec.args ? values : undefined,
      configPath: opts.config as string | undefined,
      configurable: spec.config,
    });
    await spec.run(settings);
  });
  return cmd;
}
