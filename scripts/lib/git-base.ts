import { execFile, spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { promisify } from 'node:util';
import type { PublishedSchema } from '../../plugin/iglu/index.js';

const run = promisify(execFile);
/** Every git call is bounded: a huge repository or a stuck filesystem fails with a clear error, not a hang. */
const GIT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 1024 * 1024 * 1024;

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (e.code === 'ENOENT') throw new Error('--base needs git on the PATH');
    if (e.killed === true) throw new Error(`git ${args[0]} did not finish within ${GIT_TIMEOUT_MS / 1000} s`);
    throw new Error((e.stderr ?? e.message).trim().split('\n')[0] ?? 'git failed');
  }
}

/**
 * The schema files of `repository` (a folder inside a git work tree) as they are at `ref`: each path
 * relative to the folder (the same files `readSchemaFiles` reads: `<vendor>/<name>/jsonschema/<version>`,
 * no hidden names) and its text at that commit.
 */
export async function publishedSchemas(repository: string, ref: string): Promise<PublishedSchema[]> {
  if (ref.startsWith('-')) throw new Error(`--base ${ref}: not a git ref`);
  const top = (await git(repository, ['rev-parse', '--show-toplevel']).catch((error: Error) => {
    throw new Error(`--base: ${repository} is not inside a git work tree (${error.message})`);
  })).trim();
  const prefix = relative(await realpath(top), await realpath(repository)).split(sep).join('/');
  const commit = (await git(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).catch(() => {
    throw new Error(`--base ${ref}: no such commit in ${top}`);
  })).trim();
  const listing = await git(top, ['ls-tree', '-r', '-z', '--full-tree', commit, ...(prefix === '' ? [] : ['--', prefix])]);
  const blobs: Array<{ path: string; sha: string }> = [];
  for (const entry of listing.split('\0')) {
    const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (match === null) continue;
    const path = prefix === '' ? match[2]! : match[2]!.slice(prefix.length + 1);
    const parts = path.split('/');
    if (parts.length < 4 || parts.at(-2) !== 'jsonschema' || parts.some((p) => p.startsWith('.'))) continue;
    blobs.push({ path, sha: match[1]! });
  }
  const texts = await catFiles(top, blobs.map((b) => b.sha));
  return blobs.map((b, i) => ({ path: b.path, text: texts[i]! }));
}

/** The contents of many blobs through one `git cat-file --batch`. */
function catFiles(cwd: string, shas: string[]): Promise<string[]> {
  if (shas.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill(), GIT_TIMEOUT_MS);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', (error) => (clearTimeout(timer), reject(error)));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`git cat-file failed (exit ${code})`));
      const out = Buffer.concat(chunks);
      const texts: string[] = [];
      let at = 0;
      for (let i = 0; i < shas.length; i++) {
        const end = out.indexOf(10, at);
        const size = Number(/ blob (\d+)$/.exec(out.subarray(at, end).toString('utf8'))?.[1] ?? NaN);
        if (Number.isNaN(size)) return reject(new Error(`git cat-file: unexpected answer for ${shas[i]}`));
        texts.push(out.subarray(end + 1, end + 1 + size).toString('utf8'));
        at = end + 1 + size + 1;
      }
      resolve(texts);
    });
    child.stdin.end(`${shas.join('\n')}\n`);
  });
}
