// A run folder's logs: JSON-lines metrics (always), TensorBoard scalars, and a progress
// display that is a bar on a terminal and a periodic line elsewhere (CI, files).
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { EventWriter } from "../../io/tensorboard.js";

export type Metrics = Record<string, number | string | boolean | null>;

export class RunLog {
  readonly metricsPath: string;
  readonly #tb: EventWriter | null;

  constructor(
    readonly dir: string,
    opts: { tensorboard?: boolean } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.metricsPath = join(dir, "metrics.jsonl");
    this.#tb = opts.tensorboard === false ? null : new EventWriter(dir);
  }

  /** Appends one JSON line {event, time, ...values}; numbers also go to TensorBoard. */
  log(event: string, values: Metrics, step?: number): void {
    const line = { event, time: new Date().toISOString(), ...values };
    appendFileSync(this.metricsPath, `${JSON.stringify(line)}\n`);
    if (this.#tb && step !== undefined) {
      for (const [k, v] of Object.entries(values)) {
        if (typeof v === "number" && Number.isFinite(v)) this.#tb.scalar(`${event}/${k}`, v, step);
      }
    }
  }

  close(): void {
    this.#tb?.close();
  }
}

export interface ProgressState {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  imgPerSec: number;
  loss: number;
}

/** Progress for one epoch at a time. Quiet mode prints nothing. */
export class Progress {
  readonly #bar: cliProgress.SingleBar | null;
  #lastLine = 0;
  constructor(
    readonly label: string,
    readonly mode: "auto" | "bar" | "lines" | "quiet" = "auto",
  ) {
    const useBar = mode === "bar" || (mode === "auto" && process.stderr.isTTY === true);
    this.#bar = useBar
      ? new cliProgress.SingleBar(
          {
            format: `${label} epoch {epoch}/{epochs} |{bar}| {value}/{total} · {ips} img/s · loss {loss} · ETA {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  start(s: ProgressState): void {
    this.#bar?.start(s.steps, s.step, this.#payload(s));
  }

  update(s: ProgressState): void {
    if (this.#bar) {
      this.#bar.update(s.step, this.#payload(s));
      return;
    }
    if (this.mode === "quiet") return;
    const now = Date.now();
    if (now - this.#lastLine > 10_000 || s.step === s.steps) {
      this.#lastLine = now;
      process.stderr.write(
        `${this.label} epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.steps} · ${s.imgPerSec.toFixed(1)} img/s · loss ${s.loss.toFixed(4)}\n`,
      );
    }
  }

  stop(): void {
    this.#bar?.stop();
  }

  #payload(s: ProgressState) {
    return {
      epoch: s.epoch,
      epochs: s.epochs,
      ips: s.imgPerSec.toFixed(1),
      loss: s.loss.toFixed(4),
    };
  }
}
