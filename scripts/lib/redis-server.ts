import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server on a free loopback port (tests and benchmarks), with an append-only file so a restart keeps what it acknowledged. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Kills the server (no shutdown), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  freeze(): void;
  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void;
}

export interface RedisServerOptions {
  /** Redis's `appendfsync`: `always` (tests: a restart keeps everything acknowledged) or `everysec` (Redis's default). */
  appendfsync?: 'always' | 'everysec';
  /** Extra `redis-server` arguments. */
  args?: string[];
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'client-session-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always', ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child!.on('error', (error) => reject(new Error(`cannot start redis-server (is it installed? .ci/run installs it): ${error.message}`)));
      child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      child!.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
  };
  const end = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => end('SIGKILL'),
    freeze: () => void (child as ChildProcess | null)?.kill('SIGSTOP'),
    thaw: () => void (child as ChildProcess | null)?.kill('SIGCONT'),
    restart: launch,
    stop: async () => {
      (child as ChildProcess | null)?.kill('SIGCONT'); // a frozen server could not act on SIGTERM
      await end('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A Redis Cluster of `masters` masters (no replicas) on free loopback ports, created with `redis-cli --cluster create`. */
export interface RedisCluster {
  urls: string[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedis({ appendfsync: 'everysec', args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`] }));
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    // The masters learn of each other by gossip: wait (bounded by a count) until each reports the cluster ok.
    for (const node of nodes) {
      let state = '';
      for (let attempt = 0; attempt < 200 && !state.includes('cluster_state:ok'); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        state = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
      }
      if (!state.includes('cluster_state:ok')) throw new Error(`the Redis Cluster did not become ready on port ${node.port}: ${state}`);
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return { urls: nodes.map((n) => n.url), stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', (error) => reject(new Error(`cannot run ${command} (is redis-tools installed? .ci/run installs it): ${error.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${out.slice(-500)}`))));
  });
}
