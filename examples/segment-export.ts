// Fine-tune a PSPNet segmenter on a pre-trained backbone (a KDEP student, any checkpoint kdep
// reads, or "none" for a random init) on a folder dataset (images/, masks/, classes.txt,
// train.txt, val.txt), then export it to ONNX at the training crop size. An offline dataset of
// that layout: `kdep transfer seg-task --out data/seg-task`.
//
//   node dist/examples/segment-export.js runs/example/student/student.pth data/seg-task seg.onnx
import { pathToFileURL } from "node:url";
import { exportOnnx, runSegmentation, type SegmentationOptions } from "kdep";

export interface SegmentExportResult {
  mIoU: number;
  classes: string[];
  onnxFile: string;
}

/** Fine-tunes a PSPNet on `data`, then writes it as ONNX for [batch, 3, crop, crop] inputs. */
export async function segmentAndExport(
  weights: string,
  data: string,
  onnxFile: string,
  overrides: Partial<SegmentationOptions> = {},
): Promise<SegmentExportResult> {
  const crop = overrides.crop ?? 64;
  const r = await runSegmentation({
    epochs: 20,
    batchSize: 8,
    baseSize: crop,
    ...overrides,
    crop,
    dataset: "folder",
    data,
    weights,
  });
  // ONNX has no adaptive pooling: the pyramid is written for one input size.
  r.model.eval();
  exportOnnx(r.model, onnxFile, { inputSize: [crop, crop] });
  r.model.dispose();
  return { mIoU: r.finalMIoU, classes: Object.keys(r.perClassIoU), onnxFile };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [weights, data, onnxFile] = process.argv.slice(2);
  if (!onnxFile) {
    console.error("usage: segment-export.js WEIGHTS|none SEG_FOLDER OUT.onnx");
    process.exit(2);
  }
  const r = await segmentAndExport(weights, data, onnxFile);
  console.log(
    `mIoU ${(100 * r.mIoU).toFixed(2)} over ${r.classes.join(", ")}; wrote ${r.onnxFile}`,
  );
}
