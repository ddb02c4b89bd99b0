import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const APP_PROCESS = fileURLToPath(new URL('../fixtures/app-process.mjs', import.meta.url));

/**
 * Starts the app process fixture; resolves with it once it printed its first line. `prefix` runs it
 * through another command (e.g. `unshare --pid --fork`).
 */
export async function startApp(
  args: string[],
  options: { prefix?: string[]; env?: Record<string, string> } = {},
): Promise<{ child: ChildProcessWithoutNullStreams; firstLine: string; exited: Promise<number | null> }> {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, APP_PROCESS, ...args];
  const child = spawn(command!, rest, { stdio: 'pipe', env: { ...process.env, ...options.env } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const firstLine = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    void exited.then((code) => reject(new Error(`app process exited (${code}) before printing: ${out}${stderr}`)));
  });
  return { child, firstLine, exited };
}

export async function kill(app: { child: ChildProcessWithoutNullStreams; exited: Promise<number | null> }): Promise<void> {
  app.child.kill('SIGKILL');
  await app.exited;
}
