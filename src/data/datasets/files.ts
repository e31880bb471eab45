// Small filesystem helpers shared by the readers: errors that name the missing file.
import { readdir, readFile, stat } from "node:fs/promises";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"];

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err,
    });
  }
}

export async function listDir(path: string, what: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    throw new Error(
      `${what}: cannot list directory ${path} (${(err as NodeJS.ErrnoException).code})`,
      { cause: err },
    );
  }
}

export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Non-empty lines with surrounding whitespace removed. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** Byte-wise sort, like Python's sorted() on str and torchvision's class order. */
export function sortCodepoint(a: string[]): string[] {
  return a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
