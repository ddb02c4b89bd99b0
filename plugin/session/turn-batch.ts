/**
 * Collects the calls made during one event-loop turn and runs them together at the next (`setImmediate`),
 * at most `limit` per run, one run per turn. Each call's promise resolves once its run is over, whatever
 * the run did: `run` handles its own failures (an exception it lets out is dropped).
 */
export class TurnBatch<T> {
  readonly #queue: Array<{ item: T; done: () => void }> = [];

  constructor(
    private readonly limit: number,
    private readonly run: (items: T[]) => void,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((done) => {
      if (this.#queue.push({ item, done }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#queue.splice(0, this.limit);
    if (this.#queue.length > 0) setImmediate(() => this.#flush());
    try {
      this.run(batch.map((queued) => queued.item));
    } catch {
      // the callers go on without it
    }
    for (const queued of batch) queued.done();
  }
}
