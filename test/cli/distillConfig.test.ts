// `kdep distill --config`: a YAML or JSON file sets the run's settings (checked in the
// config.json the run writes and in the optimiser state of its checkpoint), flags win over
// the file, and a bad setting stops the command before anything is written, naming the key.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { stringify } from "yaml";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runCli } from "../helpers/cli.js";
import { fmnistFolder } from "../pipelines/fixtures/fmnistFolder.js";

describe("kdep distill --config", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-config-"));
  // 20 images; every setting differs from its default.
  const settings = (out: string) => ({
    data: root,
    out: join(root, out),
    teacher: "resnet18",
    teacherWeights: "random",
    align: "none",
    pts: false,
    epochs: 1,
    batchSize: 10,
    lr: 0.02,
    momentum: 0.8,
    weightDecay: 1e-4,
    lrStep: 5,
    imageSize: 32,
    valEvery: 0,
    workers: 1,
    seed: 3,
  });
  const recorded = (out: string) =>
    JSON.parse(readFileSync(join(root, out, "config.json"), "utf8")) as Record<string, unknown>;
  const optimizer = (out: string) => {
    const ck = loadCheckpointFile(join(root, out, "checkpoint.pth"));
    return { ...ck.optimizer.param_groups[0], globalStep: ck.loop.globalStep };
  };

  before(async () => {
    await fmnistFolder(root, 2, 0);
  });

  it("a YAML file sets every field it names; the rest keep their defaults", async () => {
    const file = join(root, "run.yaml");
    writeFileSync(file, stringify(settings("yaml")));
    const r = await runCli(["distill", "--config", file]);
    assert.equal(r.code, 0, r.stderr);
    const c = recorded("yaml");
    for (const [k, v] of Object.entries(settings("yaml"))) assert.deepEqual(c[k], v, k);
    assert.equal(c.student, "resnet18");
    assert.equal(c.lrGamma, 0.1);
    assert.equal(c.lossWeight, 3);
    // The settings reached the training, not only the record: 20 images / batch 10.
    const o = optimizer("yaml");
    assert.deepEqual([o.lr, o.momentum, o.weight_decay, o.globalStep], [0.02, 0.8, 1e-4, 2]);
  });

  it("flags win over a JSON file, which wins over the defaults", async () => {
    const file = join(root, "run.json");
    writeFileSync(file, JSON.stringify({ ...settings("json"), pts: true }));
    const r = await runCli([
      "distill",
      "--config",
      file,
      "--lr",
      "0.05",
      "--batch-size",
      "20",
      "--no-pts",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const c = recorded("json");
    assert.deepEqual(
      [c.lr, c.batchSize, c.pts, c.momentum, c.seed, c.epochs],
      [0.05, 20, false, 0.8, 3, 1],
    );
    const o = optimizer("json");
    assert.deepEqual([o.lr, o.momentum, o.globalStep], [0.05, 0.8, 1]);
  });

  it("--resume refuses settings that differ from the run's, naming them", async () => {
    const file = join(root, "run.yaml"); // the finished run of the first test
    const before = readFileSync(join(root, "yaml", "config.json"), "utf8");
    const r = await runCli([
      "distill",
      "--config",
      file,
      "--resume",
      "--lr",
      "0.1",
      "--epochs",
      "2",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Cannot resume with settings that differ from .*config\.json \(lr: 0\.02 → 0\.1\)/,
    );
    assert.equal(readFileSync(join(root, "yaml", "config.json"), "utf8"), before);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp[]]> = [
    ["lr: -1", { lr: -1 }, [/lr: Too small: expected number to be >0; got -1 \(in .*bad\.yaml\)/]],
    [
      'epochs: "ten"',
      { epochs: "ten" },
      [/epochs: Invalid input: expected number, received string; got "ten"/],
    ],
    [
      "unknown key lerning_rate",
      { lerning_rate: 0.1 },
      [/lerning_rate: unknown setting \(in .*bad\.yaml\); did you mean "lr"\?/],
    ],
  ];
  for (const [what, change, messages] of bad) {
    it(`refuses ${what}, naming the key, and writes nothing`, async () => {
      const out = `bad-${Object.keys(change)[0]}`;
      const file = join(root, "bad.yaml");
      writeFileSync(file, stringify({ ...settings(out), ...change }));
      const r = await runCli(["distill", "--config", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Invalid configuration in .*bad\.yaml/);
      for (const m of messages) assert.match(r.stderr, m);
      assert.ok(!existsSync(join(root, out)), "no run folder");
    });
  }

  it("refuses a bad flag value and a malformed file, naming them", async () => {
    const flag = await runCli([
      "distill",
      "--data",
      root,
      "--epochs",
      "ten",
      "--out",
      join(root, "f"),
    ]);
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /epochs: Invalid input: expected number.*"ten" \(from --epochs\)/);
    const file = join(root, "broken.json");
    writeFileSync(file, '{"lr": 0.1,}');
    const broken = await runCli(["distill", "--config", file, "--out", join(root, "f")]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /Config .*broken\.json is not valid JSON/);
    assert.ok(!existsSync(join(root, "f")));
  });
});
