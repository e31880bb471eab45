// The API's pipelines take plain option objects checked by the CLI's schemas: an unknown key
// or a bad value is refused before anything is read or written, naming the key.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as kdep from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-api-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = () => {};

describe("public API options", () => {
  it("runSvd refuses an unknown key and a bad value, naming them", async () => {
    const out = join(dir, "svd");
    await assert.rejects(
      kdep.runSvd({ data: dir, out, batchsize: 4 } as kdep.SvdOptions, quiet),
      /Invalid options for runSvd:\n {2}batchsize: unknown option/,
    );
    await assert.rejects(
      kdep.runSvd({ data: dir, out, imageSize: -1 }, quiet),
      /imageSize: .*; got -1/,
    );
    await assert.rejects(kdep.runSvd({ out } as kdep.SvdOptions, quiet), /data: /);
    assert.equal(existsSync(out), false);
  });

  it("runDistill and runClassification check their config keys the CLI way", async () => {
    await assert.rejects(
      kdep.runDistill({ data: dir, lerningRate: 0.1 } as kdep.DistillOptions, quiet),
      /lerningRate: unknown option/,
    );
    await assert.rejects(
      kdep.runDistill({ data: dir, align: "pca" as "svd" }, quiet),
      /align: .*; got "pca"/,
    );
    await assert.rejects(
      kdep.runClassification({ dataset: "imagenet" as "cifar100", data: dir }, quiet),
      /Invalid options for runClassification:\n {2}dataset: /,
    );
    await assert.rejects(kdep.runClassification({ epochs: 2 }, quiet), /needs data/);
  });

  it("runSegmentation checks transfer seg's config keys and the recipe's ranges", async () => {
    const out = join(dir, "seg");
    await assert.rejects(
      kdep.runSegmentation({ data: dir, out, crops: 64 } as kdep.SegmentationOptions, quiet),
      /Invalid options for runSegmentation:\n {2}crops: unknown option/,
    );
    await assert.rejects(
      kdep.runSegmentation({ data: dir, out, backbone: "vgg16" as "resnet18" }, quiet),
      /backbone: .*; got "vgg16"/,
    );
    await assert.rejects(kdep.runSegmentation({ out }, quiet), /runSegmentation: data .* required/);
    await assert.rejects(
      kdep.runSegmentation({ data: dir, out, scaleMin: 2, scaleMax: 1 }, quiet),
      /runSegmentation: scaleMin 2 is larger than scaleMax 1/,
    );
    assert.equal(existsSync(out), false);
  });

  it("exports the model zoo, tensors, nn and optim", () => {
    assert.deepEqual(
      kdep.listModels().map((m) => m.name),
      ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2"],
    );
    const lin = new kdep.nn.Linear(3, 2);
    const sgd = new kdep.optim.SGD(lin.parameters(), { lr: 0.1 });
    const y = kdep.tidy(() => lin.forward(kdep.ones([4, 3])).shape);
    assert.deepEqual(y, [4, 2]);
    assert.equal(typeof sgd.step, "function");
    lin.dispose();
  });
});
