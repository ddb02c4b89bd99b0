import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST_SCRIPTS = fileURLToPath(new URL('../../dist/scripts/', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  stdin?: string | Buffer;
  cwd?: string;
  nodeOptions?: string[];
}

export interface RunningCli {
  /** Settles when the process has exited and its output is read. */
  done: Promise<CliRun>;
  kill(): void;
}

/** Starts a built command (`npm test` builds first) as a real child process. */
export function spawnCli(script: string, args: string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), `${DIST_SCRIPTS}${script}.js`, ...args], { cwd: options.cwd, stdio: 'pipe' });
  const done = new Promise<CliRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  child.stdin.end(options.stdin ?? '');
  return { done, kill: () => child.kill() };
}

/** Runs a built command to its end. */
export function runCli(script: string, args: string[], options: CliOptions = {}): Promise<CliRun> {
  return spawnCli(script, args, options).done;
}
