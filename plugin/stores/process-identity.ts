import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is, beyond its PID: PIDs are reused (a container's app is PID 1 after every restart) and
 * only mean something inside one PID namespace of one boot of one machine.
 */
export interface ProcessIdentity {
  pid: number;
  hostname: string;
  /** The kernel's boot id (Linux), or null. */
  bootId: string | null;
  /** The PID namespace, e.g. `pid:[4026531836]` (Linux), or null. */
  pidNamespace: string | null;
  /** The process's start time in clock ticks since boot (Linux), or null. */
  startTime: string | null;
}

/** What can be said of a recorded process from here. */
export type Liveness = 'self' | 'alive' | 'dead' | 'unknown';

let own: ProcessIdentity | undefined;

export function ownIdentity(): ProcessIdentity {
  own ??= {
    pid: process.pid,
    hostname: hostname(),
    bootId: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
    startTime: readOrNull(() => startTimeOf(readFileSync('/proc/self/stat', 'utf8'))),
  };
  return own;
}

/**
 * Whether the recorded process still runs. Checkable only from the same machine, boot and PID namespace;
 * there a PID whose process started at another time is a reused PID, so the recorded process is dead.
 */
export function livenessOf(recorded: ProcessIdentity): Liveness {
  const me = ownIdentity();
  if (recorded.hostname !== me.hostname || recorded.bootId !== me.bootId || recorded.pidNamespace !== me.pidNamespace) return 'unknown';
  if (recorded.pid === me.pid) return recorded.startTime === me.startTime ? 'self' : 'dead';
  try {
    process.kill(recorded.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  if (recorded.startTime === null || !procShowsOwnNamespace()) return 'alive';
  const now = readOrNull(() => startTimeOf(readFileSync(`/proc/${recorded.pid}/stat`, 'utf8')));
  return now === null || now !== recorded.startTime ? 'dead' : 'alive';
}

/** `/proc` may be the host's inside a PID namespace (`unshare --pid` without `--mount-proc`): then other PIDs cannot be looked up there. */
function procShowsOwnNamespace(): boolean {
  const pid = readOrNull(() => readFileSync('/proc/self/stat', 'utf8').split(' ', 1)[0] ?? null);
  return pid === String(process.pid);
}

/** Field 22 of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses. */
function startTimeOf(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function readOrNull(read: () => string | null): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}
