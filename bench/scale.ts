import { lastValueFrom, of, tap } from 'rxjs';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format } from './harness';
import { startServerProcess } from './serverProcess';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `streams` rimeTts subscriptions at once in this process, against the local server in another. */
export async function benchScale(options: BenchOptions): Promise<Section> {
  const streams = options.quick ? 50 : 1000;
  const server = await startServerProcess(['--max-connections', String(streams * 3), '--first-audio-ms', '50', '--real-time-factor', '0.05']);
  try {
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    }, 20);
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: streams }, (_, index) => {
        const opened = performance.now();
        let firstAudio = 0;
        let bytes = 0;
        return lastValueFrom(
          of(`Stream number ${index} speaks one sentence, and then it is done.`).pipe(
            rimeTts({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 16000, apiKey: 'bench', url: server.url, handshakeTimeoutMs: 30_000 }),
            tap((chunk) => {
              firstAudio ||= performance.now() - opened;
              bytes += chunk.length;
            }),
          ),
          { defaultValue: undefined },
        ).then(() => ({ firstAudio, bytes }));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const completed = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failures = results.length - completed.length;
    const ttfa = completed.map((result) => result.firstAudio);
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    return {
      title: `${streams} concurrent rimeTts streams`,
      markdown: [
        `${streams} subscriptions started at once in one process, each speaking one sentence, against the local server in`,
        'another process (test voice, 50 ms to first audio, real-time factor 0.05, so streams overlap for about a second).',
        '',
        '| streams | completed | failed | wall time | TTFA p50 | TTFA p99 | RSS growth (peak) | per stream | heap growth (peak) |',
        '|---|---|---|---|---|---|---|---|---|',
        `| ${streams} | ${completed.length} | ${failures} | ${format.fixed(seconds, 1)} s | ${format.fixed(percentile(ttfa, 50), 1)} ms | ` +
          `${format.fixed(percentile(ttfa, 99), 1)} ms | ${mb(peakRss - before.rss)} | ${kb((peakRss - before.rss) / streams)} | ${mb(peakHeap - before.heapUsed)} |`,
        '',
        `Baseline: the server's own time to first audio is 50 ms; the p50 above is ${format.fixed(percentile(ttfa, 50) / 50, 1)}x it, with all`,
        `${streams} connecting at once (2 cores shared by both processes).`,
      ].join('\n'),
    };
  } finally {
    await server.stop();
  }
}
