import { from, lastValueFrom, map, tap } from 'rxjs';
import { TEST_VOICE_MS_PER_CHARACTER } from '../lib/server/voices/testVoiceCodec';
import type { Frame } from '../lib/protocol/wire';
import type { Transport } from '../lib/transport/transport';
import { wsTransport } from '../lib/transport/wsTransport';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, type Stats, format, stats } from './harness';
import { rawClient } from './rawClient';
import { startServerProcess } from './serverProcess';

/** Frame sizes a server may use: powers of two, and odd sizes that cut a sample in two at the end of every other frame. */
const frameSizes = [1024, 4095, 16_384, 16_383, 65_536];

const samplingRate = 22050;
/**
 * Slow speech: 8,192 samples (16 KiB) per character, so the test voice makes 64 KiB at a time (it yields every four
 * characters) and the server cuts frames of exactly the size asked for. At speed 1 its pieces are 10,584 bytes,
 * which would cap every frame at that (even) size.
 */
const speedAlpha = ((TEST_VOICE_MS_PER_CHARACTER / 1000) * samplingRate) / 8192;
const rimeConfig = { speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', samplingRate, speedAlpha } as const;

/** What rimeTts sends to the server: the query of its URL and its text frames, in order. */
interface Conversation {
  readonly query: string;
  readonly frames: readonly string[];
}

/** Records, on a real connection, what rimeTts sends for `text`, so that the raw client can send exactly the same. */
async function recordRimeTts(url: string, text: readonly string[]): Promise<Conversation> {
  let query = '';
  const frames: string[] = [];
  const recording: Transport = (request) => {
    query = request.url.search;
    return wsTransport(request).pipe(
      map((event) =>
        event.type === 'open'
          ? {
              ...event,
              send: (frame: Frame) => {
                if (typeof frame === 'string') frames.push(frame);
                event.send(frame);
              },
            }
          : event,
      ),
    );
  };
  await lastValueFrom(from(text).pipe(rimeTts({ ...rimeConfig, url, transport: recording })), { defaultValue: undefined });
  return { query, frames };
}


function rimeClient(url: string, text: readonly string[], onAudio: (bytes: number) => void): Promise<unknown> {
  return lastValueFrom(from(text).pipe(rimeTts({ ...rimeConfig, url }), tap((chunk) => onAudio(chunk.length))), { defaultValue: undefined });
}

interface Run {
  readonly bytesPerSecond: number;
  /** CPU time (user + system) of this process per MiB received, in milliseconds. */
  readonly cpuMsPerMiB: number;
  /** What `onAudio` was given: frames for the raw client, chunks for rimeTts. */
  readonly pieces: number;
  readonly oddPieces: number;
  readonly bytes: number;
}

/** One run of `client`: its throughput and CPU cost (the server runs in another process, so it is not counted). */
async function measure(client: (onAudio: (bytes: number) => void) => Promise<unknown>): Promise<Run> {
  let bytes = 0;
  let pieces = 0;
  let oddPieces = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await client((count) => {
    bytes += count;
    pieces++;
    oddPieces += count % 2;
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { bytesPerSecond: bytes / seconds, cpuMsPerMiB: (cpu.user + cpu.system) / 1000 / (bytes / 2 ** 20), pieces, oddPieces, bytes };
}

/** A run of each client, one right after the other. */
interface Pair {
  readonly raw: Run;
  readonly ours: Run;
}

export async function benchFrames(options: BenchOptions): Promise<Section> {
  const sentences = options.quick ? 2 : 48;
  const runs = options.quick ? 1 : 31;
  const text = Array.from({ length: sentences }, (_, index) => `Sentence number ${index} is spoken slowly so that every frame is full. `);
  const servers = await Promise.all(
    frameSizes.map(async (frameBytes) => ({ frameBytes, server: await startServerProcess(['--frame-bytes', String(frameBytes)]) })),
  );
  const results: { readonly frameBytes: number; readonly pairs: readonly Pair[] }[] = [];
  try {
    for (const { frameBytes, server } of servers) {
      const conversation = await recordRimeTts(server.url, text);
      const raw = () => measure((onAudio) => rawClient(`${server.url}${conversation.query}`, conversation.frames, onAudio));
      const ours = () => measure((onAudio) => rimeClient(server.url, text, onAudio));
      if (!options.quick) {
        await raw(); // warm-up
        await ours();
      }
      const pairs: Pair[] = [];
      for (let run = 0; run < runs; run++) {
        // Each client first in turn, so that neither always runs after the other.
        if (run % 2 === 0) {
          const first = await raw();
          pairs.push({ raw: first, ours: await ours() });
        } else {
          const first = await ours();
          pairs.push({ ours: first, raw: await raw() });
        }
      }
      results.push({ frameBytes, pairs });
    }
  } finally {
    await Promise.all(servers.map(({ server }) => server.stop()));
  }

  const mib = (bytes: number) => bytes / 2 ** 20;
  const throughputOf = (run: Run) => mib(run.bytesPerSecond);
  const cpuOf = (run: Run) => run.cpuMsPerMiB;
  // Each rimeTts run against the raw run beside it: pairing cancels the drift of the machine's load.
  const figures = (pairs: readonly Pair[], figure: (run: Run) => number) => ({
    raw: stats(pairs.map((pair) => figure(pair.raw))),
    ours: stats(pairs.map((pair) => figure(pair.ours))),
    ratio: stats(pairs.map((pair) => figure(pair.ours) / figure(pair.raw))),
  });
  const rows = results.map(({ frameBytes, pairs }) => ({
    frameBytes,
    sent: pairs[0]?.raw,
    throughput: figures(pairs, throughputOf),
    cpu: figures(pairs, cpuOf),
  }));
  const frameShape = (sent: Run | undefined) =>
    sent === undefined ? '' : `${format.int(sent.bytes / sent.pieces)} B, ${format.int((100 * sent.oddPieces) / sent.pieces)}% odd`;
  const ratio = (value: Stats) => `**${format.fixed(value.median)}x** (${format.fixed(value.min)}–${format.fixed(value.max)})`;
  const throughputMet = rows.filter((row) => row.throughput.ratio.median >= 0.95).length;
  const cpuMet = rows.filter((row) => row.cpu.ratio.median <= 1.1).length;
  return {
    title: 'rimeTts() against a raw ws client, by server frame size',
    markdown: [
      'Rime cuts pcm frames at arbitrary byte boundaries, so a client must keep 16-bit samples whole without copying the',
      'audio. The local server runs in its own process (`rime-rx serve --voice test --frame-bytes N`), so the CPU time is',
      `the client's alone (\`process.cpuUsage()\` of this process, user + system, per MiB received). ${sentences} sentences`,
      `(${format.fixed(mib(rows[0]?.sent?.bytes ?? 0), 1)} MiB of pcm at ${samplingRate} Hz, spoken slowly so that the test voice makes 64 KiB at a time`,
      "and every frame is cut at the size asked for). rimeTts gets the sentences with `audioFormat: 'pcm'`; the raw client is",
      'a bare `ws` socket sending the query and text frames rimeTts sent on a first, recorded connection. Median (min–max)',
      `of ${runs} runs of each client per frame size${options.quick ? '' : ' after a warm-up'}, interleaved; rimeTts/raw is the`,
      'median (min–max) of the ratios of each rimeTts run to the raw run beside it.',
      '',
      '| server frame (bytes) | frames as sent: mean, odd | raw ws throughput | rimeTts throughput | rimeTts/raw | raw ws CPU per MiB | rimeTts CPU per MiB | rimeTts/raw |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (row) =>
          `| ${format.int(row.frameBytes)} | ${frameShape(row.sent)} | ${format.spread(row.throughput.raw, 'MiB/s')} | ` +
          `${format.spread(row.throughput.ours, 'MiB/s')} | ${ratio(row.throughput.ratio)} | ${format.spread(row.cpu.raw, 'ms', 2)} | ` +
          `${format.spread(row.cpu.ours, 'ms', 2)} | ${ratio(row.cpu.ratio)} |`,
      ),
      '',
      `Targets: throughput at least 0.95x raw and CPU per MiB at most 1.1x raw at every frame size; met at`,
      `${throughputMet} of ${rows.length} frame sizes for throughput and ${cpuMet} of ${rows.length} for CPU.`,
    ].join('\n'),
  };
}
