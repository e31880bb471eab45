// A minimal well-formedness check for the SVG we write: one root, balanced and properly
// nested tags, quoted attributes, no stray "<" or unescaped "&" in text.
import assert from "node:assert/strict";

export function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const between = xml.slice(last, m.index);
    assert.ok(!between.includes("<"), `stray "<" or malformed tag near: ${between.slice(0, 80)}`);
    assert.ok(
      !/&(?!(amp|lt|gt|quot|#\d+);)/.test(between),
      `unescaped & in: ${between.slice(0, 80)}`,
    );
    last = re.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) {
      assert.equal(stack.pop(), name, `closing </${name}> does not match`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  assert.ok(!xml.slice(last).includes("<"), "malformed tag after the last element");
  assert.deepEqual(stack, [], "unclosed tags");
  assert.equal(roots, 1, "exactly one root element");
}
