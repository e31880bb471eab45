// Ctrl-C (SIGINT) and SIGTERM ask a long run to stop at the next step boundary, so it can
// write a checkpoint and exit 0 instead of dying mid-write. A second signal exits at once.
export class StopSignal {
  #requested: string | null = null;
  readonly #handler = (sig: NodeJS.Signals) => {
    if (this.#requested) process.exit(130);
    this.#requested = sig;
    process.stderr.write(`\n${sig} received: finishing this step and writing a checkpoint…\n`);
  };

  constructor() {
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
