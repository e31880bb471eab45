// Classify one image with a torchvision checkpoint (any file kdep reads: a torchvision state
// dict, a kdep student with a head, a `{model: …}` checkpoint), ImageNet preprocessing.
//
//   node dist/examples/classify.js resnet50 resnet50-0676ba61.pth cat.jpg
import { pathToFileURL } from "node:url";
import {
  createModel,
  DataLoader,
  Dataset,
  fromArray,
  loadWeightsInto,
  nn,
  noGrad,
  tidy,
  valTransform,
} from "kdep";

export interface Prediction {
  classIndex: number;
  probability: number;
}

/** Top-k classes of `image` under the model `arch` with the weights in `checkpoint`. */
export async function classify(
  arch: string,
  checkpoint: string,
  image: string,
  k = 5,
): Promise<Prediction[]> {
  const model = createModel(arch);
  loadWeightsInto(model, checkpoint);
  model.eval();
  // One image as a dataset of one: the loader decodes it and applies Resize 256 →
  // CenterCrop 224 → normalise, exactly as torchvision's evaluation transform does.
  const one = new Dataset({
    name: image,
    classes: ["?"],
    labels: Int32Array.of(0),
    source: { kind: "files", paths: [image] },
  });
  const loader = new DataLoader(one, { batchSize: 1, transform: valTransform(224) });
  let probs: number[] = [];
  for await (const batch of loader.epoch(0)) {
    const x = fromArray(batch.images, batch.shape);
    probs = tidy(() => noGrad(() => nn.F.softmax(model.forward(x), 1).toArray()));
    x.dispose();
  }
  await loader.close();
  model.dispose();
  return probs
    .map((probability, classIndex) => ({ classIndex, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [arch, checkpoint, image] = process.argv.slice(2);
  if (!image) {
    console.error("usage: classify.js ARCH CHECKPOINT IMAGE");
    process.exit(2);
  }
  for (const p of await classify(arch, checkpoint, image)) {
    console.log(`class ${p.classIndex}: ${(100 * p.probability).toFixed(2)}%`);
  }
}
