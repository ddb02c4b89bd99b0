import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { promisify } from 'node:util';
import { v4 as uuidv4 } from 'uuid';
import type { SessionState } from '../../plugin/index.js';
import { emptyDocument, SessionDocumentFile } from '../../plugin/stores/session-document.js';

const execFileAsync = promisify(execFile);

export interface LargeStoreRun {
  startupMs: number;
  heapPerKey: number;
  p99Ms: number;
  maxMs: number;
  events: number;
  stats: { writes: number; bytesWritten: number; appends: number } | null;
}

/** Writes a session document of `keys` sessions (as the store writes it); returns its size in bytes. */
export async function writeLargeStore(file: string, keys: number): Promise<number> {
  const now = Date.now();
  const data = emptyDocument();
  for (let i = 0; i < keys; i++) {
    const state: SessionState = {
      userId: uuidv4(),
      sessionId: uuidv4(),
      previousSessionId: null,
      sessionIndex: 1,
      eventIndex: 3,
      firstEventId: uuidv4(),
      firstEventTimestamp: new Date(now).toISOString(),
      startedAt: now,
      lastActivityAt: now,
      lastUid: null,
    };
    data.sessions.set(`user-${i}`, state);
  }
  const document = new SessionDocumentFile(file);
  await document.write(data);
  return document.bytes;
}

/** One measurement in a fresh process, so its heap holds only what the store keeps. */
export async function measureLargeStore(kind: 'lowdb' | 'memory', file: string, keys: number): Promise<LargeStoreRun> {
  const child = fileURLToPath(new URL('./large-store-child.js', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', child, kind, file, String(keys)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as LargeStoreRun;
}

