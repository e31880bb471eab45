// Mixed precision: autocast through libtorch's dispatcher (the flags torch.autocast sets),
// and whether this CPU has native bf16 arithmetic.
import { readFileSync } from "node:fs";
import { native } from "../native/binding.js";
import { DTYPE_CODE } from "./dtype.js";

export type AmpDtype = "bfloat16" | "float16";
export type AmpDevice = "cpu" | "cuda";

/**
 * Runs `fn` with autocast on for `device` (eligible ops run in `dtype`), restoring the
 * previous state after; nested calls are fine. Backward passes belong outside.
 */
export function withAutocast<T>(device: AmpDevice, dtype: AmpDtype, fn: () => T): T {
  const [wasOn, wasDtype] = native.setAutocast(device, true, DTYPE_CODE[dtype]);
  try {
    return fn();
  } finally {
    native.setAutocast(device, wasOn, wasDtype);
  }
}

/** The CPU flags that make bf16 matmuls and convolutions native (oneDNN uses them). */
export const NATIVE_BF16_FLAGS = ["avx512_bf16", "amx_bf16"];

/** Whether the CPU (per /proc/cpuinfo, or the text given) has native bf16 instructions. */
export function cpuHasNativeBf16(cpuinfo?: string): boolean {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return false; // not Linux: unknown, so not assumed
    }
  }
  const flags = new Set(/^flags\s*:\s*(.*)$/m.exec(text)?.[1].split(/\s+/) ?? []);
  return NATIVE_BF16_FLAGS.some((f) => flags.has(f));
}

/**
 * `--amp bf16|fp16` for a device ("cpu", "cuda:0"): what withAutocast needs, or an error.
 * float16 autocast is a CUDA feature; bf16 on a CPU without native bf16 has no fast
 * convolution (AVX2_BF16_SLOWDOWN: measured), so it is refused there.
 */
export function resolveAmp(
  amp: "bf16" | "fp16" | undefined,
  device: string,
  cpuinfo?: string,
): { device: AmpDevice; dtype: AmpDtype } | undefined {
  if (amp === undefined) return undefined;
  const kind: AmpDevice = device.startsWith("cuda") ? "cuda" : "cpu";
  if (kind === "cpu" && device !== "cpu")
    throw new Error(`--amp: device "${device}" is neither cpu nor cuda:N`);
  const dtype: AmpDtype = amp === "bf16" ? "bfloat16" : "float16";
  if (kind === "cpu" && amp === "fp16")
    throw new Error("--amp fp16 needs a CUDA device; on a CPU use --amp bf16 (native bf16 CPUs)");
  if (kind === "cpu" && !cpuHasNativeBf16(cpuinfo))
    throw new Error(
      `--amp bf16 on this CPU (no ${NATIVE_BF16_FLAGS.join("/")} in /proc/cpuinfo) is refused: ${AVX2_BF16_SLOWDOWN}. Train in float32 (no --amp)`,
    );
  return { device: kind, dtype };
}

/**
 * Measured (bench/kdep/ampChild.ts) with oneDNN limited to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2),
 * Debian's libtorch 1.13: there is no bf16 convolution kernel at all.
 */
export const AVX2_BF16_SLOWDOWN =
  'with oneDNN limited to AVX2, libtorch 1.13 has no bf16 convolution ("could not create a primitive descriptor iterator")';
