// Every command against its schema: `--help` lists exactly the schema's settings with the
// defaults the code uses, and an unknown config key, a bad value of each type and an
// unknown flag each end with exit code 1 and one line naming the key or flag and where it
// came from.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { flagOf, type SettingInfo, settingsOf } from "../../src/cli/options.js";
import { COMMANDS, runCommandLine } from "../../src/cli/program.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-cli-"));

async function kdep(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCommandLine(argv, {
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

/** Option flag → its help text, from the "Options:" block of `--help`. */
function helpOptions(help: string): Map<string, string> {
  const block = help.split("Options:\n")[1].split("\n\n")[0];
  const options = new Map<string, string>();
  let last = "";
  for (const line of block.split("\n")) {
    const m = /^ {2}(-\S+(?:, --\S+)?)(?: <[^>]+>)? {2,}(.*)$/.exec(line);
    if (m) {
      last = m[1].split(", ").pop()!;
      options.set(last, m[2].trim());
    } else options.set(last, `${options.get(last)} ${line.trim()}`);
  }
  return options;
}

const shown = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v));

/** A value each kind of setting refuses, given as a flag or (for strings and booleans,
 * which any flag text satisfies) in a config file. */
const BAD: Record<SettingInfo["kind"], { flag?: string; file?: unknown }> = {
  integer: { flag: "1.5" },
  number: { flag: "abc" },
  enum: { flag: "no-such-choice" },
  list: { flag: "" },
  string: { file: 5 },
  boolean: { file: "yes" },
};

for (const [path, spec] of COMMANDS) {
  const words = path.split(" ");
  const settings = settingsOf(spec.schema);
  const args = new Set<string>(spec.args ?? []);
  // Arguments and required settings, so that only the setting under test is wrong.
  const argv = (except?: string) => {
    const a = [...words, ...(spec.args ?? []).map((k) => `${k}-value`)];
    for (const s of settings)
      if (s.required && !args.has(s.key) && s.key !== except)
        a.push(s.flag, s.kind === "list" ? "a=b" : "x");
    return a;
  };
  const oneLine = (r: { code: number; err: string }, what: RegExp) => {
    assert.equal(r.code, 1, r.err);
    const lines = r.err.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0], new RegExp(`^kdep ${path}: `));
    assert.match(lines[0], what);
  };

  describe(`kdep ${path}`, () => {
    it("--help lists exactly the schema's settings, with the defaults the code uses", async () => {
      const r = await kdep([...words, "--help"]);
      assert.equal(r.code, 0, r.err);
      const options = helpOptions(r.out);
      const expected = settings.filter((s) => !args.has(s.key)).map((s) => s.flag);
      if (spec.config) expected.unshift("--config");
      assert.deepEqual([...options.keys()], [...expected, "--help"]);
      // The code's defaults: the schema parsed with only the required settings given.
      const required = Object.fromEntries(
        settings.filter((s) => s.required).map((s) => [s.key, s.kind === "list" ? ["a"] : "x"]),
      );
      const defaults = spec.schema.parse(required) as Record<string, unknown>;
      for (const s of settings) {
        const text = args.has(s.key) ? r.out.replace(/\s+/g, " ") : options.get(s.flag)!;
        assert.ok(text.includes(s.help.split(";")[0]), `${s.flag}: its description`);
        if (s.key in required) assert.match(text, /required/, s.flag);
        else if (defaults[s.key] === undefined) assert.doesNotMatch(text, /default:/, s.flag);
        else assert.ok(text.includes(`default: ${shown(defaults[s.key])})`), `${s.flag}: ${text}`);
      }
      assert.equal(settings.length, Object.keys(spec.schema.shape).length);
    });

    it("an unknown flag: exit 1, one line naming it", async () => {
      oneLine(await kdep([...argv(), "--no-such-flag"]), /unknown option '--no-such-flag'/);
    });

    if (spec.config) {
      it("an unknown config key: exit 1, one line naming it and the file, with a suggestion", async () => {
        const key = settings.find((s) => s.key.length >= 4 && !s.required)!.key;
        const file = join(dir, `${words.join("-")}-unknown.json`);
        writeFileSync(file, JSON.stringify({ [`${key}x`]: 1 }));
        oneLine(
          await kdep([...argv(), "--config", file]),
          new RegExp(
            `${key}x: unknown setting \\(in .*unknown\\.json\\); did you mean "${key}"\\?`,
          ),
        );
      });
    }

    const kinds = new Map<string, SettingInfo>();
    for (const s of settings) if (!args.has(s.key) && !kinds.has(s.kind)) kinds.set(s.kind, s);
    for (const [kind, s] of kinds) {
      const bad = BAD[s.kind];
      if (bad.file !== undefined && !spec.config) continue;
      it(`a bad ${kind} (${s.flag}): exit 1, one line naming it and where it came from`, async () => {
        if (bad.flag !== undefined) {
          oneLine(
            await kdep([...argv(s.key), s.flag, bad.flag]),
            new RegExp(`${s.key}: .*\\(from ${flagOf(s.key)}\\)`),
          );
        } else {
          const file = join(dir, `${words.join("-")}-${s.key}.json`);
          writeFileSync(file, JSON.stringify({ [s.key]: bad.file }));
          oneLine(
            await kdep([...argv(s.key), "--config", file]),
            new RegExp(`${s.key}: .*got ${JSON.stringify(bad.file)} \\(in .*${s.key}\\.json\\)`),
          );
        }
      });
    }
  });
}

describe("kdep (the process)", () => {
  it("demo --seeds refuses a bad value instead of falling back on the default", async () => {
    const r = await runCli(["demo", "--seeds", "three", "--out", join(dir, "demo")]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^kdep demo: .*seeds: .*"three" \(from --seeds\)/);
  });

  it("a bad flag prints one line and no help; --help exits 0", async () => {
    const r = await runCli(["transfer", "cls", "--epohcs", "3"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "kdep transfer cls: unknown option '--epohcs' (Did you mean --epochs?)\n",
    );
    assert.equal(r.stdout, "");
    const help = await runCli(["transfer", "cls", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--epochs <n> +epochs \(integer > 0; default: 150\)/);
  });
});
