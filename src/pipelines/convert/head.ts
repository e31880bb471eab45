// The classifier head of each family, in torchvision's keys: what --drop-head, semseg and
// Detectron2 leave out (their heads are built fresh for the new task).
import type { RawTensor } from "../../io/index.js";

const HEAD = /^(fc|classifier(\.\d+)?)\.(weight|bias)$/;

export function isHeadKey(key: string): boolean {
  return HEAD.test(key);
}

/** Splits a state dict into body and head (order kept). */
export function splitHead(sd: Map<string, RawTensor>): {
  body: Map<string, RawTensor>;
  head: string[];
} {
  const body = new Map<string, RawTensor>();
  const head: string[] = [];
  for (const [k, v] of sd) {
    if (isHeadKey(k)) head.push(k);
    else body.set(k, v);
  }
  return { body, head };
}
