// Jest's globalTeardown. A child process a test left running (a server, a shell waiting on its stdin) keeps
// Jest from exiting, and CI would wait out its own limit of an hour and more. So any process still descended
// from Jest's is named, killed, and fails the run: a leak is a failure to mend, never a hang. Anything else
// left open that holds the process up fails the run 30 s later, named.
import { readdirSync, readFileSync } from 'node:fs';

/** [pid, parent pid, state] of every process, read from /proc (Linux). */
function processes() {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8'); // "pid (comm) state ppid ..."; comm may hold spaces
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.push([Number(name), Number(ppid), state]);
    } catch {
      // it exited while we looked
    }
  }
  return found;
}

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(exited)';
  }
}

/** The live processes descended from this one (Jest's). */
export function descendants() {
  const all = processes();
  const found = [];
  for (let parents = new Set([process.pid]); parents.size > 0; ) {
    const children = all.filter(([, ppid, state]) => parents.has(ppid) && state !== 'Z').map(([pid]) => pid);
    found.push(...children);
    parents = new Set(children);
  }
  return found;
}

/** Anything else a test left open (a server, a timer) hangs the run the same way: bounded here. */
function failIfStillUpAfter(ms) {
  const timer = setTimeout(() => {
    console.error(`snowplow-client-session tests: Jest has not exited ${ms / 1000} s after the tests; still open: ${process.getActiveResourcesInfo().join(', ')}. A test must close what it opens, also when it fails.`);
    process.exit(1);
  }, ms);
  timer.unref(); // it never holds the process up itself
}

export default function killLeftChildren(globalConfig) {
  if (!globalConfig.watch && !globalConfig.watchAll) failIfStillUpAfter(30_000); // a watching Jest stays up by design
  if (process.platform !== 'linux') return;
  const before = globalThis.processesBeforeTests ?? new Set(); // Jest's own (esbuild's service), from global-setup.mjs
  const left = descendants().filter((pid) => !before.has(pid));
  if (left.length === 0) return;
  const named = left.map((pid) => `  ${pid}: ${commandLine(pid)}`).join('\n');
  console.error(`snowplow-client-session tests: ${left.length} child process(es) outlived the tests; killed them:\n${named}\nA test must stop what it starts, also when it fails.`);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  process.exitCode = 1;
}
