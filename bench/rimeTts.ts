import { from, lastValueFrom, map, range, tap, toArray } from 'rxjs';
import { sentences as segmenting } from '../lib/text/sentences';
import { WebSocket } from 'ws';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, stats } from './harness';
import { startServerProcess } from './serverProcess';

const sentence = 'The quick brown fox jumps over the lazy dog, then rests.';
const query = '?speaker=cove&modelId=mistv3&audioFormat=pcm&lang=eng&samplingRate=22050&segment=bySentence';

/** The baseline client: a raw `ws` socket sending the same frames, counting what arrives. */
function rawClient(url: string, frames: readonly string[], onAudio: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}${query}`, { headers: { Authorization: 'Bearer bench' } });
    socket.on('open', () => frames.forEach((frame) => socket.send(frame)));
    socket.on('message', (data: Buffer) => onAudio(data.length));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

function rimeClient(url: string, text: readonly string[], onAudio: (bytes: number) => void): Promise<unknown> {
  return lastValueFrom(
    from(text).pipe(
      rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url }),
      tap((chunk) => onAudio(chunk.length)),
    ),
    { defaultValue: undefined },
  );
}

/** Milliseconds from the start of `client` to its first audio byte. */
async function firstAudio(client: (onAudio: (bytes: number) => void) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let first = 0;
  await client(() => {
    if (first === 0) first = performance.now() - started;
  });
  return first;
}

/** Audio bytes a second through `client` for a long text. */
async function throughput(client: (onAudio: (bytes: number) => void) => Promise<unknown>): Promise<{ bytesPerSecond: number; bytes: number }> {
  let bytes = 0;
  const started = performance.now();
  await client((count) => (bytes += count));
  return { bytesPerSecond: bytes / ((performance.now() - started) / 1000), bytes };
}

export async function benchRimeTts(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 5 : 60;
  const latency = await startServerProcess(['--first-audio-ms', '20']);
  const rawTtfa: number[] = [];
  const rimeTtfa: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      rawTtfa.push(await firstAudio((onAudio) => rawClient(latency.url, [sentence, '<EOS>'], onAudio)));
      rimeTtfa.push(await firstAudio((onAudio) => rimeClient(latency.url, [sentence], onAudio)));
    }
  } finally {
    await latency.stop();
  }
  const raw = stats(rawTtfa);
  const ours = stats(rimeTtfa);

  const fast = await startServerProcess([]);
  const sentences = options.quick ? 40 : 400;
  const text = Array.from({ length: sentences }, (_, index) => `Sentence number ${index} is spoken at a steady pace, on and on. `);
  const rawRates: number[] = [];
  const rimeRates: number[] = [];
  let streamedBytes = 0;
  const memory: { before: number; peak: number; after: number; heapPeak: number; bytes: number } = { before: 0, peak: 0, after: 0, heapPeak: 0, bytes: 0 };
  try {
    // The raw client sends exactly the frames rimeTts sends: the segments sentences() makes, then <EOS>.
    const frames = await lastValueFrom(from(text).pipe(segmenting(), toArray()));
    for (let run = 0; run < (options.quick ? 1 : 5); run++) {
      rawRates.push((await throughput((onAudio) => rawClient(fast.url, [...frames, '<EOS>'], onAudio))).bytesPerSecond);
      const ours = await throughput((onAudio) => rimeClient(fast.url, text, onAudio));
      rimeRates.push(ours.bytesPerSecond);
      streamedBytes = ours.bytes;
    }
    const target = (options.quick ? 20 : 500) * 2 ** 20;
    const perSentence = streamedBytes / sentences;
    const needed = Math.ceil(target / perSentence);
    global.gc?.();
    memory.before = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      memory.peak = Math.max(memory.peak, usage.rss);
      memory.heapPeak = Math.max(memory.heapPeak, usage.heapUsed);
    }, 50);
    await lastValueFrom(
      range(0, needed).pipe(
        map((index) => `Sentence number ${index} is spoken at a steady pace, on and on. `),
        rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url: fast.url }),
        tap((chunk) => (memory.bytes += chunk.length)),
      ),
      { defaultValue: undefined },
    );
    clearInterval(sampler);
    memory.after = process.memoryUsage().rss;
  } finally {
    await fast.stop();
  }
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const rawRate = stats(rawRates);
  const rimeRate = stats(rimeRates);
  const rate = (value: { median: number; min: number; max: number }) => `${mb(value.median)}/s (${mb(value.min)}–${mb(value.max)})`;
  return {
    title: 'rimeTts() against a raw ws client',
    markdown: [
      'Both clients talk to the local server running in its own process (`rime-rx serve --voice test`), so each figure is',
      'the client alone; the raw client is a bare `ws` socket sending the same frames (the segments, then `<EOS>`).',
      '',
      `**Time to first audio**, from the start of the client (connect included) to its first audio byte, server time to`,
      `first audio fixed at 20 ms; median (min–max) of ${runs} runs each, interleaved:`,
      '',
      '| client | time to first audio |',
      '|---|---|',
      `| raw ws (baseline) | ${format.spread(raw, 'ms', 2)} |`,
      `| rimeTts | ${format.spread(ours, 'ms', 2)} |`,
      '',
      `Added by rimeTts: **${format.fixed(ours.median - raw.median, 2)} ms** at the median (target: under 0.5 ms).`,
      '',
      `**Throughput** over ${sentences} sentences (${mb(streamedBytes)} of pcm), the server as fast as it can; median`,
      `(min–max) of ${rawRates.length} runs each, interleaved:`,
      '',
      '| client | audio bytes/s |',
      '|---|---|',
      `| raw ws (baseline) | ${rate(rawRate)} |`,
      `| rimeTts | ${rate(rimeRate)} |`,
      '',
      `rimeTts runs at **${format.fixed(rimeRate.median / rawRate.median)}x** the raw client (target: at least 0.9x).`,
      '',
      `**Memory** while streaming ${mb(memory.bytes)} of audio through one subscription: RSS ${mb(memory.before)} before,`,
      `${mb(memory.peak)} at the peak (+${mb(memory.peak - memory.before)}), ${mb(memory.after)} after; heap peak ${mb(memory.heapPeak)}.`,
    ].join('\n'),
  };
}
