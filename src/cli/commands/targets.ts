// `kdep targets`: the teacher-target cache that `kdep distill --targets` trains from.
import { runTargets, TargetsSchema } from "../../api/targets.js";
import { defineCommand } from "../options.js";

export const targetsCommand = defineCommand({
  name: "targets",
  description:
    "cache the teacher's SVD-projected targets of every epoch's augmentation, for `distill --targets`",
  schema: TargetsSchema,
  config: true,
  after: `
Ctrl-C finishes the current chunk and exits; the same command continues where it stopped
(and so does a killed run), writing the same bytes. A folder built with other settings is
refused, naming them. More --epochs extend an existing cache.`,
  run: async (o) => {
    const r = await runTargets(o);
    console.log(
      r.stopped
        ? `Stopped after ${r.chunks} chunks; run the same command again to continue`
        : `Targets of ${r.manifest.epochs} epochs × ${r.images} images (k = ${r.manifest.k}) in ${o.out}`,
    );
  },
});
