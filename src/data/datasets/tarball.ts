// Reads chosen members of a .tar.gz into memory (tar-stream + node's gunzip).
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

/** Returns the members whose path ends with one of `suffixes` (e.g. "/train"). */
export async function readTarMembers(
  path: string,
  suffixes: string[],
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    const hit = header.type === "file" && suffixes.find((s) => header.name.endsWith(s));
    if (!hit) {
      stream.on("end", next);
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => chunks.push(c as Buffer));
    stream.on("end", () => {
      out.set(hit, Buffer.concat(chunks));
      next();
    });
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), ex);
  } catch (err) {
    throw new Error(`Cannot read archive ${path}: ${(err as Error).message}`, { cause: err });
  }
  return out;
}
