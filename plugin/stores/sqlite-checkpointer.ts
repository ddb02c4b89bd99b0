import { Worker } from 'node:worker_threads';

/** The WAL is copied into the database once it holds this many bytes (about 1000 pages, SQLite's own default). */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;
const POLL_MS = 200;

// The worker's own code (CommonJS, evaluated): its own connection runs PASSIVE checkpoints, which wait for
// no lock and never stop a writer, whenever the WAL has grown past the threshold. Failures are left to the
// next round (a checkpoint only moves pages that are already safe in the WAL).
const WORKER = `
const { statSync } = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
const timer = setInterval(() => {
  try {
    if (statSync(workerData.file + '-wal').size >= workerData.bytes) db.pragma('wal_checkpoint(PASSIVE)');
  } catch {}
}, workerData.pollMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * Copies the WAL into the database on a worker thread, so that no event-loop turn of the app pays for a
 * checkpoint's writes and `fsync` (the store turns SQLite's automatic checkpoints off). The thread is
 * unref'd: it never keeps the process alive.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  /** `onFailure`: the thread died; the owner lets SQLite checkpoint on its own connection again. */
  constructor(driverPath: string, file: string, onFailure: (error: unknown) => void) {
    this.#worker = new Worker(WORKER, { eval: true, workerData: { driver: driverPath, file, bytes: CHECKPOINT_BYTES, pollMs: POLL_MS } });
    this.#worker.on('error', onFailure);
    this.#exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.unref();
  }

  /** Stops the thread after its current checkpoint; resolves when it has exited. */
  stop(): Promise<void> {
    this.#worker.ref(); // the process waits for the thread's exit it awaits
    this.#worker.postMessage('stop');
    return this.#exited;
  }
}
