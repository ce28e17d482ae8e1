import { cpus, totalmem } from 'node:os';

/** Median and spread of repeated measurements. */
export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

/** Milliseconds `work` takes, measured `repeats` times after one warm-up run. */
export function timeRuns(repeats: number, work: () => void): Stats {
  work();
  const samples: number[] = [];
  for (let run = 0; run < repeats; run++) {
    const start = process.hrtime.bigint();
    work();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return stats(samples);
}

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export const format = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  fixed: (n: number, digits = 2) => n.toFixed(digits),
  spread: (s: Stats, unit: string, digits = 0) => `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`,
};

/** A benchmark's contribution to docs/benchmarks.md. */
export interface Section {
  readonly title: string;
  readonly markdown: string;
}

export interface BenchOptions {
  /** A fast pass that proves the benchmark still runs; its figures are not meant to be quoted. */
  readonly quick: boolean;
}
