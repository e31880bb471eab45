// What `kdep transfer cls` and `kdep transfer suite` share: `runs` fine-tunings of one
// backbone on one dataset, each with fresh weights and its own seed.

import type { DistGroup } from "../distributed/group.js";
import { createModel } from "../models/registry.js";
import { loadWeightsInto, resolveWeights } from "../models/weights.js";
import { runClassification } from "../pipelines/transfer/classify.js";
import type { TransferConfig } from "../pipelines/transfer/classifyConfig.js";
import { type TransferData, transferTransforms } from "../pipelines/transfer/datasets.js";

/** "none" (or no weights at all) means a random init drawn from the run's seed. */
export async function weightsPath(spec: string | undefined): Promise<string | null> {
  if (!spec || spec === "none") return null;
  return (await resolveWeights(spec)).path;
}

export async function transferRuns(
  c: TransferConfig,
  data: TransferData,
  weights: string | null,
  distributed?: DistGroup,
) {
  const t = transferTransforms(c, data.mean, data.std);
  const results = [];
  for (let run = 0; run < c.runs; run++) {
    // Built inside the run, after its seed: a random init is then the run's own.
    const createBackbone = () => {
      const backbone = createModel(c.backbone, {
        numClasses: 0,
        ...(c.width ? { width: c.width } : {}),
      });
      if (weights) {
        const report = loadWeightsInto(backbone, weights, { strict: false });
        if (run === 0) for (const line of report) process.stderr.write(`weights: ${line}\n`);
      }
      return backbone;
    };
    results.push(
      await runClassification({
        config: c,
        createBackbone,
        numClasses: data.numClasses,
        train: data.train,
        test: data.test,
        trainTransform: t.train,
        testTransform: t.test,
        run,
        distributed,
      }),
    );
  }
  return results;
}
