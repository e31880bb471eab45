// KDEP pre-training from a program: the SVD of a teacher's features on a folder of images,
// then a student distilled onto them. Defaults are the paper's (ResNet-50 teacher with
// torchvision's weights, ResNet-18 student, 90 epochs at 224 px); pass overrides for a
// quick run.
//
//   node dist/examples/distill.js /data/imagenet-10pct runs/example
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type DistillOptions, runDistill, runSvd } from "kdep";

/** Distils a student on the ImageFolder `data` (its train/ and val/ when present). */
export async function distilStudent(
  data: string,
  out: string,
  overrides: Partial<DistillOptions> = {},
): Promise<string> {
  const teacher = overrides.teacher ?? "resnet50";
  const teacherWeights =
    overrides.teacherWeights ?? (overrides.teacher ? undefined : "torchvision:resnet50");
  const imageSize = overrides.imageSize ?? 224;
  const svdDir = join(out, "svd");
  await runSvd({
    data,
    out: svdDir,
    teacher,
    teacherWeights,
    imageSize,
    workers: overrides.workers ?? 2,
    progress: overrides.progress,
  });
  const result = await runDistill({
    ...overrides,
    data,
    teacher,
    teacherWeights,
    svd: svdDir,
    out: join(out, "student"),
  });
  return result.studentPath;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [data, out] = process.argv.slice(2);
  if (!out) {
    console.error("usage: distill.js IMAGE_FOLDER OUT_DIR");
    process.exit(2);
  }
  console.log(`student written to ${await distilStudent(data, out)}`);
}
