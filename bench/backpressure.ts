import { Writable } from 'node:stream';
import { Subject, from, tap } from 'rxjs';
import { WebSocket } from 'ws';
import { writeAudio } from '../lib/audio/sinks';
import { createRimeServer } from '../lib/server/createRimeServer';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, stats } from './harness';

/** Bytes a second the slow destination takes: a few times real time for 22,050 Hz pcm, far below the server's pace. */
const SINK_BYTES_PER_SECOND = 4_000_000;

/** A destination that takes `SINK_BYTES_PER_SECOND`, and the audio that reached the client but not it yet. */
function slowSink(): { readonly writable: Writable; received(bytes: number): void; readonly mostWaiting: number; readonly total: number } {
  let received = 0;
  let taken = 0;
  let mostWaiting = 0;
  const started = performance.now();
  // Paced by bytes, not by writes: a write is done when the bytes so far fit the rate, so many small chunks cost no more.
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      taken += chunk.length;
      const due = started + (taken / SINK_BYTES_PER_SECOND) * 1000;
      const wait = due - performance.now();
      if (wait > 1) setTimeout(done, wait);
      else setImmediate(done);
    },
  });
  return {
    writable,
    received(bytes) {
      received += bytes;
      mostWaiting = Math.max(mostWaiting, received - taken);
    },
    get mostWaiting() {
      return mostWaiting;
    },
    get total() {
      return received;
    },
  };
}

interface Run {
  readonly mostWaiting: number;
  readonly bytes: number;
  readonly milliseconds: number;
}

/** The baseline: a bare `ws` socket that pauses itself while the destination is over its high-water mark. */
function rawRun(url: string, text: string): Promise<Run> {
  const sink = slowSink();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?speaker=cove&audioFormat=pcm&segment=never`, { headers: { Authorization: 'Bearer bench' } });
    socket.on('open', () => [text, '<FLUSH>', '<EOS>'].forEach((frame) => socket.send(frame)));
    socket.on('message', (data: Buffer) => {
      sink.received(data.length);
      if (!sink.writable.write(data) && !socket.isPaused) {
        socket.pause();
        sink.writable.once('drain', () => socket.resume());
      }
    });
    socket.on('close', () => sink.writable.end(() => resolve({ mostWaiting: sink.mostWaiting, bytes: sink.total, milliseconds: performance.now() - started })));
    socket.on('error', reject);
  });
}

async function rimeTtsRun(url: string, text: string, wired: boolean): Promise<Run> {
  const sink = slowSink();
  const started = performance.now();
  const backpressure = new Subject<boolean>();
  const audio = from([text]).pipe(
    rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url, ...(wired ? { backpressure } : {}) }),
    tap((chunk) => sink.received(chunk.length)),
  );
  await writeAudio(audio, sink.writable, wired ? { backpressure } : {});
  return { mostWaiting: sink.mostWaiting, bytes: sink.total, milliseconds: performance.now() - started };
}

/**
 * A destination slower than the server: the most audio that waited in the client's memory, rimeTts into `writeAudio`
 * with and without `backpressure`, beside a bare ws client that pauses its socket by hand. Interleaved runs, medians.
 */
export async function benchBackpressure(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 1 : 5;
  const sentences = options.quick ? 8 : 40;
  const text = Array.from({ length: sentences }, (_, index) => `Sentence ${index} of the long text goes on for a while.`).join(' ');
  // The raw client sends the text as one frame, past Rime's 1,000 characters: this server takes it.
  const server = await createRimeServer({ log: () => {}, maxTextLength: 1_000_000 });
  const results = { raw: [] as Run[], wired: [] as Run[], unwired: [] as Run[] };
  try {
    for (let run = 0; run < runs; run++) {
      results.raw.push(await rawRun(server.url, text));
      results.wired.push(await rimeTtsRun(server.url, text, true));
      results.unwired.push(await rimeTtsRun(server.url, text, false));
    }
  } finally {
    await server.close();
  }
  const kib = (bytes: number) => bytes / 1024;
  const row = (name: string, samples: readonly Run[]) => {
    const waiting = stats(samples.map((sample) => kib(sample.mostWaiting)));
    const time = stats(samples.map((sample) => sample.milliseconds));
    return `| ${name} | ${format.spread(waiting, 'KiB')} | ${format.spread(time, 'ms')} |`;
  };
  const audioBytes = stats(results.wired.map((sample) => sample.bytes)).median;
  return {
    title: 'Backpressure into a slow destination',
    markdown: [
      `${sentences} sentences (${format.fixed(audioBytes / 1e6, 1)} MB of 22,050 Hz pcm) from the local server at full speed into a Node \`Writable\``,
      `that takes ${format.int(SINK_BYTES_PER_SECOND / 1e6)} MB/s; ${runs} interleaved runs, median (min–max). "Most waiting": the most audio that had reached`,
      'the client but not the destination. `backpressure` is not on by default: it needs the same `Subject<boolean>` given to',
      '`rimeTts` and the sink (`rime-rx speak` always wires it); the last row is what a pipeline that does not wire it gets.',
      '',
      '| client | most waiting in memory | time to the end |',
      '|---|---|---|',
      row('raw ws, pausing its socket on the writable\'s `drain` (baseline)', results.raw),
      row('rimeTts → writeAudio, `backpressure` wired', results.wired),
      row('rimeTts → writeAudio, not wired', results.unwired),
      '',
      'Target: with `backpressure`, bounded like the baseline (a few socket reads), at the same time to the end.',
    ].join('\n'),
  };
}
