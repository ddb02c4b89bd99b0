import { cpus, totalmem } from 'node:os';

/** One row of the results table. */
export interface BenchRow {
  case: string;
  measuredAs: string;
  /** The median, formatted. */
  result: string;
  /** min–max over the rounds, formatted. */
  spread: string;
  target: string;
  met: 'yes' | 'no' | 'n/a';
  /** Raw figures for results.json. */
  data: Record<string, unknown>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: number[], format: (n: number) => string): string {
  return `${format(Math.min(...values))}–${format(Math.max(...values))}`;
}

export const ratio = (n: number) => n.toFixed(3);
export const ms = (n: number) => `${n.toFixed(0)} ms`;

/**
 * Runs every variant once to warm up (unless `warmUp` is false: each run warms up itself, e.g. a child
 * process), then `rounds` rounds in which the variants alternate, so that noise from a shared machine hits
 * all of them alike. Each run returns its own measure (e.g. ms).
 */
export async function alternate<T extends string, R = number>(rounds: number, variants: readonly T[], run: (variant: T) => Promise<R>, warmUp = true): Promise<Record<T, R[]>> {
  if (warmUp) for (const variant of variants) await run(variant);
  const results = Object.fromEntries(variants.map((v) => [v, [] as R[]])) as Record<T, R[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) results[variant].push(await run(variant));
  }
  return results;
}

/** Per-round ratios b/a (the same round, so the same machine conditions). */
export function ratios(b: number[], a: number[]): number[] {
  return b.map((value, i) => value / a[i]!);
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
