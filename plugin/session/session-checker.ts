/**
 * The periodic check that ends idle sessions on time (the .NET tracker's SessionChecker): an unref'd
 * interval, so it never keeps a process alive. The owner stops it when no session is left to expire and
 * starts it again on the next event or on `setBackground(false)`.
 */
export class SessionChecker {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly check: () => void,
  ) {}

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts checking, unless the interval is 0 (off) or it already runs. */
  start(): void {
    if (this.intervalMs === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(this.check, this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
