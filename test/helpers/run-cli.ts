import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST_SCRIPTS = fileURLToPath(new URL('../../dist/scripts/', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built command (`npm test` builds first) as a real child process. */
export function runCli(script: string, args: string[], options: { stdin?: string | Buffer; cwd?: string; nodeOptions?: string[] } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), `${DIST_SCRIPTS}${script}.js`, ...args], { cwd: options.cwd, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
