// What every KDEP stage that runs the frozen teacher (SVD pass, target cache, distiller)
// does to it first.
import type { Backbone } from "../../models/backbone.js";
import { convertToChannelsLast } from "../../models/common.js";
import { foldBatchNorm } from "../../models/fold.js";

/**
 * Readies the teacher, in place, for inference only: its pre-ReLU feature, BN folded into
 * its convs (foldBatchNorm: no BN pass, no activation-sized temporary per conv), and on the
 * CPU its weights in channels-last memory. oneDNN then convolves in NHWC directly instead of
 * reordering each output through an output-sized buffer, so folding lowers the peak too
 * (ResNet-50, batch 64 at 112 px: forward peak 307.5 → 223.5 MiB, about 20% faster). Call it
 * after moving the teacher to its device; calling it again changes nothing.
 */
export function freezeTeacher(teacher: Backbone): Backbone {
  teacher.preReluFeature = true;
  foldBatchNorm(teacher);
  if (teacher.parameters()[0]?.device === "cpu") {
    convertToChannelsLast(teacher);
    teacher.requiresGrad_(false); // the converted parameters are new tensors
  }
  return teacher;
}
