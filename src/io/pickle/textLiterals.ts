// Decoders for the text forms older pickles use: protocol 0's quoted STRING repr and
// raw-unicode-escape UNICODE lines, and Python 2 byte strings.
const td = new TextDecoder("utf-8", { fatal: true });

/** Python 2 str: text when it is valid UTF-8 (names, keys), else raw bytes. */
export function py2str(b: Uint8Array): string | Uint8Array {
  try {
    return td.decode(b);
  } catch {
    return Uint8Array.from(b);
  }
}

/** Decodes the quoted repr of protocol 0's STRING opcode. */
export function unquote(s: string, err: (m: string) => never): string | Uint8Array {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) err("bad STRING literal");
  const body = s.slice(1, -1);
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, "\\": 92, "'": 39, '"': 34, "0": 0 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const e = body[++i];
    if (e === "x") {
      out.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e in simple) out.push(simple[e]);
    else out.push(92, e.charCodeAt(0));
  }
  return py2str(Uint8Array.from(out));
}

export function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) =>
    String.fromCodePoint(Number.parseInt(a ?? b, 16)),
  );
}
