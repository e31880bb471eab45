// --upstream/--downstream: parsed from "0,1,2" and refused, in one line naming the flag,
// unless both are non-empty, within 0–9, without repeats and disjoint.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DOWNSTREAM, UPSTREAM } from "../../src/pipelines/demo/settings.js";
import {
  DEFAULT_SPLIT,
  parseClassList,
  splitName,
  validateSplit,
} from "../../src/pipelines/demo/split.js";

test("the default split is today's: clothes upstream, shoes and bags held out", () => {
  assert.deepEqual(UPSTREAM, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Shirt"]);
  assert.deepEqual(DOWNSTREAM, ["Sandal", "Sneaker", "Bag", "Ankle boot"]);
  assert.equal(splitName(DEFAULT_SPLIT), "upstream 0,1,2,3,4,6 / downstream 5,7,8,9");
  assert.deepEqual(validateSplit({ upstream: [9, 0], downstream: [3] }), {
    upstream: [9, 0],
    downstream: [3],
  });
});

test("class lists are parsed and bad ones refused with the flag named", () => {
  assert.deepEqual(parseClassList("0, 1,2", "--upstream"), [0, 1, 2]);
  assert.throws(() => parseClassList("", "--upstream"), /^Error: --upstream: no classes given/);
  assert.throws(() => parseClassList("1,x", "--downstream"), /--downstream: "x" is not a class/);
  assert.throws(() => parseClassList("1,-2", "--downstream"), /"-2" is not a class index/);
  const bad: [number[], number[], RegExp][] = [
    [[], [1], /--upstream: no classes given/],
    [[0], [], /--downstream: no classes given/],
    [[0, 10], [1], /--upstream: class 10 is outside 0–9/],
    [[0], [1, 1], /--downstream: class 1 is listed twice/],
    [[0, 5, 7], [5, 7, 8], /share 5 \(Sandal\), 7 \(Sneaker\)/],
  ];
  for (const [upstream, downstream, re] of bad)
    assert.throws(() => validateSplit({ upstream, downstream }), re);
});
