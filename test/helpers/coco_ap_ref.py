"""COCO box AP written from the COCO evaluation definition, for kdep's tests.

Independent of kdep's TypeScript: reads ground truths and detections as JSON
({"images", "categories", "gts": [{image, box: [x1, y1, x2, y2], label, iscrowd, area}],
"dets": [{image, box, label, score}], "maxDet"}) on stdin and prints
{"AP", "AP50", "AP75", "APs", "APm", "APl"} as fractions (null where nothing counts).

The definition: per category and image, the top maxDet detections by score are matched
greedily, best score first, to the unmatched ground truth of highest IoU at or above each
threshold 0.50:0.05:0.95, non-ignored ground truths preferred; a crowd region (IoU =
intersection / detection area) may take any number of detections, which are then ignored, as
are ground truths outside the area range and unmatched detections outside it. Per category,
precision over all images (detections by score) is made monotone and read at 101 recall
points (0 past the last recall reached); AP averages over thresholds, recall points and the
categories that have a non-ignored ground truth.
"""
import json
import sys

import numpy as np

AREAS = {"all": (0, 1e10), "small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, 1e10)}
THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALLS = np.linspace(0.0, 1.0, 101)


def box_area(b):
    return (b[2] - b[0]) * (b[3] - b[1])


def overlap(d, g, crowd):
    w = min(d[2], g[2]) - max(d[0], g[0])
    h = min(d[3], g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (box_area(d) if crowd else box_area(d) + box_area(g) - inter)


def match_image(gts, dets, lo, hi, max_det):
    """Per threshold: (scores, matched, ignored) of the image's kept detections."""
    ign = [bool(g["iscrowd"]) or not (lo <= g["area"] <= hi) for g in gts]
    order = sorted(range(len(gts)), key=lambda i: ign[i])  # non-ignored first, stable
    gts = [gts[i] for i in order]
    ign = [ign[i] for i in order]
    dets = sorted(dets, key=lambda d: -d["score"])[:max_det]
    out = []
    for t in THRESHOLDS:
        taken = [False] * len(gts)
        matched, ignored = [], []
        for d in dets:
            best, m = min(t, 1 - 1e-10), -1
            for j, g in enumerate(gts):
                if taken[j] and not g["iscrowd"]:
                    continue
                if m > -1 and not ign[m] and ign[j]:
                    break
                v = overlap(d["box"], g["box"], g["iscrowd"])
                if v < best:
                    continue
                best, m = v, j
            if m > -1:
                taken[m] = True
                matched.append(True)
                ignored.append(ign[m])
            else:
                matched.append(False)
                ignored.append(not (lo <= box_area(d["box"]) <= hi))
        out.append(([d["score"] for d in dets], matched, ignored))
    return out, sum(1 for x in ign if not x)


def category_precision(per_image, n_gt):
    """101-point interpolated precision per threshold, or None when nothing counts."""
    if n_gt == 0:
        return None
    curves = []
    for t in range(len(THRESHOLDS)):
        scores = np.concatenate([np.array(p[t][0], dtype=float) for p in per_image] + [np.zeros(0)])
        matched = np.concatenate([np.array(p[t][1], dtype=bool) for p in per_image] + [np.zeros(0, bool)])
        ignored = np.concatenate([np.array(p[t][2], dtype=bool) for p in per_image] + [np.zeros(0, bool)])
        idx = np.argsort(-scores, kind="mergesort")
        tp = np.cumsum(matched[idx] & ~ignored[idx]).astype(float)
        fp = np.cumsum(~matched[idx] & ~ignored[idx]).astype(float)
        recall = tp / n_gt
        precision = tp / (tp + fp + np.spacing(1))
        for i in range(len(precision) - 1, 0, -1):
            precision[i - 1] = max(precision[i - 1], precision[i])
        at = np.searchsorted(recall, RECALLS, side="left")
        curves.append([float(precision[i]) if i < len(precision) else 0.0 for i in at])
    return curves


def evaluate(data):
    results = {}
    for name, (lo, hi) in AREAS.items():
        per_cat = []
        for c in data["categories"]:
            per_image, n_gt = [], 0
            for im in data["images"]:
                g = [x for x in data["gts"] if x["image"] == im and x["label"] == c]
                d = [x for x in data["dets"] if x["image"] == im and x["label"] == c]
                if not g and not d:
                    continue
                r, n = match_image(g, d, lo, hi, data["maxDet"])
                per_image.append(r)
                n_gt += n
            per_cat.append(category_precision(per_image, n_gt))
        per_cat = [p for p in per_cat if p is not None]
        mean = lambda rows: float(np.mean(rows)) if len(rows) else None
        if name == "all":
            results["AP"] = mean([v for p in per_cat for curve in p for v in curve])
            results["AP50"] = mean([v for p in per_cat for v in p[0]])
            results["AP75"] = mean([v for p in per_cat for v in p[5]])
        else:
            results["AP" + name[0]] = mean([v for p in per_cat for curve in p for v in curve])
    return results


if __name__ == "__main__":
    print(json.dumps(evaluate(json.load(sys.stdin))))
