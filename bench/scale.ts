import { lastValueFrom, of, tap } from 'rxjs';
import { WebSocket } from 'ws';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, stats } from './harness';
import { startServerProcess } from './serverProcess';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const sentenceOf = (index: number) => `Stream number ${index} speaks one sentence, and then it is done.`;

/** One stream's time to first audio (ms from its start), or why it failed. */
type Stream = (url: string, index: number) => Promise<number>;

/** The baseline: a raw `ws` socket sending the frames rimeTts sends (`segment=never`, the sentence, a flush, `<EOS>`). */
const rawStream: Stream = (url, index) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    let firstAudio = 0;
    const socket = new WebSocket(`${url}?speaker=cove&audioFormat=pcm&samplingRate=16000&segment=never`, {
      headers: { Authorization: 'Bearer bench' },
      handshakeTimeout: 30_000,
    });
    socket.on('open', () => [sentenceOf(index), '<FLUSH>', '<EOS>'].forEach((frame) => socket.send(frame)));
    socket.on('message', () => (firstAudio ||= performance.now() - started));
    socket.on('close', () => resolve(firstAudio));
    socket.on('error', reject);
  });

const rimeStream: Stream = (url, index) => {
  const started = performance.now();
  let firstAudio = 0;
  return lastValueFrom(
    of(sentenceOf(index)).pipe(
      rimeTts({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 16000, apiKey: 'bench', url, handshakeTimeoutMs: 30_000 }),
      tap(() => (firstAudio ||= performance.now() - started)),
    ),
    { defaultValue: undefined },
  ).then(() => firstAudio);
};

interface Round {
  readonly ttfa: readonly number[];
  readonly failures: number;
  readonly seconds: number;
  readonly rssGrowth: number;
}

/** `streams` streams started at once; their first-audio times, failures, wall time and peak RSS growth. */
async function round(stream: Stream, url: string, streams: number): Promise<Round> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: streams }, (_, index) => stream(url, index)));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const ttfa = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  return { ttfa, failures: results.length - ttfa.length, seconds, rssGrowth: peak - before };
}

/** `streams` rimeTts subscriptions at once in this process beside as many raw sockets, against the local server in another. */
export async function benchScale(options: BenchOptions): Promise<Section> {
  const streams = options.quick ? 50 : 1000;
  const rounds = options.quick ? 1 : 3;
  const server = await startServerProcess(['--max-connections', String(streams * 3), '--first-audio-ms', '50', '--real-time-factor', '0.05']);
  const raw: Round[] = [];
  const ours: Round[] = [];
  try {
    for (let index = 0; index < rounds; index++) {
      raw.push(await round(rawStream, server.url, streams));
      ours.push(await round(rimeStream, server.url, streams));
    }
  } finally {
    await server.stop();
  }
  const p50s = (runs: readonly Round[]) => stats(runs.map((run) => percentile(run.ttfa, 50)));
  const p99s = (runs: readonly Round[]) => stats(runs.map((run) => percentile(run.ttfa, 99)));
  const completed = (runs: readonly Round[]) => runs.reduce((total, run) => total + run.ttfa.length, 0);
  const failed = (runs: readonly Round[]) => runs.reduce((total, run) => total + run.failures, 0);
  const growth = (runs: readonly Round[]) => stats(runs.map((run) => run.rssGrowth));
  const wall = (runs: readonly Round[]) => stats(runs.map((run) => run.seconds));
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const row = (name: string, runs: readonly Round[]) =>
    `| ${name} | ${completed(runs)} | ${failed(runs)} | ${format.spread(wall(runs), 's', 1)} | ${format.spread(p50s(runs), 'ms')} | ` +
    `${format.spread(p99s(runs), 'ms')} | ${mb(growth(runs).median)} | ${format.int(growth(runs).median / streams / 1024)} KiB |`;
  const ratio = p50s(ours).median / p50s(raw).median;
  return {
    title: `${streams} concurrent rimeTts streams`,
    markdown: [
      `${streams} streams started at once in one process, each speaking one sentence, against the local server in another process`,
      '(test voice, 50 ms to first audio, real-time factor 0.05, so streams overlap for about a second); the raw client sends',
      `the same frames on a bare \`ws\` socket. ${rounds} rounds of each, alternating; median (min–max) over the rounds of each`,
      "round's figure. Completed and failed count every stream of every round.",
      '',
      '| client | completed | failed | wall time | first audio p50 | first audio p99 | RSS growth (peak) | per stream |',
      '|---|---|---|---|---|---|---|---|',
      row('raw ws (baseline)', raw),
      row('rimeTts', ours),
      '',
      `rimeTts's first audio p50 is **${format.fixed(ratio)}x** the raw client's (target: at most 1.1x), with all ${streams} connecting at once`,
      '(2 cores shared by both processes).',
    ].join('\n'),
  };
}
