// Ctrl-C (SIGINT) and SIGTERM ask a long run to stop at the next step boundary, so it can
// write a checkpoint and exit 0 instead of dying mid-write. A second signal exits at once
// (code 130) without that checkpoint; it cannot tear one either: Node runs this handler only
// between synchronous calls, and every checkpoint is written by one synchronous atomic
// write (temp file + rename), so the folder keeps the last complete checkpoint.
import { constants } from "node:os";

export class StopSignal {
  #requested: string | null = null;
  readonly #handler = (sig: NodeJS.Signals) => {
    // The shell's convention: 128 + the signal's number (130 for SIGINT).
    if (this.#requested) process.exit(128 + (constants.signals[sig] ?? 2));
    this.#requested = sig;
    process.stderr.write(`\n${sig} received: ${this.#action}\n`);
  };
  readonly #action: string;

  /** `action`: what the run does on a first signal, as the user is told. */
  constructor(
    action = "finishing this step and writing a checkpoint… (again: quit now, keeping the last complete checkpoint)",
  ) {
    this.#action = action;
    process.on("SIGINT", this.#handler);
    process.on("SIGTERM", this.#handler);
  }

  get requested(): boolean {
    return this.#requested !== null;
  }

  /** Asks to stop (tests, time budgets). */
  request(reason: string): void {
    this.#requested ??= reason;
  }

  dispose(): void {
    process.off("SIGINT", this.#handler);
    process.off("SIGTERM", this.#handler);
  }
}

/**
 * Lets the event loop run once so a pending signal reaches its handler. Awaiting batches is
 * not enough: when the loader's batches are ready, their worker messages are delivered one
 * after another within a single event-loop callback (up to 1000 at a time), so a loop that
 * only awaits them may not see Ctrl-C for an epoch.
 */
export function pollSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
