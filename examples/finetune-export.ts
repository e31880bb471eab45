// Fine-tune a pre-trained backbone on a folder of labelled images (train/ and val/ holding
// one sub-folder per class), then export the classifier to ONNX for ONNX Runtime.
//
//   node dist/examples/finetune-export.js runs/example/student/student.pth /data/flowers flowers.onnx
import { pathToFileURL } from "node:url";
import { type ClassificationOptions, exportOnnx, runClassification } from "kdep";

export interface FinetuneExportResult {
  top1: number;
  onnxFile: string;
}

/** Fine-tunes `weights` on the ImageFolder `data`, then writes the classifier as ONNX. */
export async function finetuneAndExport(
  weights: string,
  data: string,
  onnxFile: string,
  overrides: Partial<ClassificationOptions> = {},
): Promise<FinetuneExportResult> {
  const [run] = await runClassification({
    epochs: 30,
    lrStep: 10,
    ...overrides,
    dataset: "imagefolder",
    data,
    weights,
    runs: 1,
  });
  run.model.eval();
  exportOnnx(run.model, onnxFile, { output: "logits" });
  run.model.dispose();
  return { top1: run.finalTop1, onnxFile };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [weights, data, onnxFile] = process.argv.slice(2);
  if (!onnxFile) {
    console.error("usage: finetune-export.js WEIGHTS IMAGE_FOLDER OUT.onnx");
    process.exit(2);
  }
  const r = await finetuneAndExport(weights, data, onnxFile);
  console.log(`top-1 ${r.top1.toFixed(2)}%, wrote ${r.onnxFile}`);
}
