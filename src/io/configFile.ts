// Config files (JSON or YAML) of a command's settings: the CLI merges them under the flags, the
// suite reads the settings of its detection and segmentation rows from them.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

export function loadConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read config ${path}: ${(e as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let data: unknown;
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    throw new Error(`Config ${path} is not valid ${yaml ? "YAML" : "JSON"}: ${msg}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`Config ${path} must hold an object of settings`);
  }
  return data as Record<string, unknown>;
}
