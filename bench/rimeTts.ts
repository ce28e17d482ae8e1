import { type OperatorFunction, from, lastValueFrom, map, range, tap, toArray } from 'rxjs';
import { sentences as segmenting } from '../lib/text/sentences';
import { WebSocket } from 'ws';
import { llmTokens } from '../lib/testing/llmTokens';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, stats } from './harness';
import { rawClient } from './rawClient';
import { startServerProcess } from './serverProcess';

const sentence = 'The quick brown fox jumps over the lazy dog, then rests.';
/** The query rimeTts builds with its defaults: `segment=never`, the client flushing each segment. */
const query = '?speaker=cove&modelId=mistv3&audioFormat=pcm&lang=eng&samplingRate=22050&segment=never';
const naiveQuery = '?speaker=cove&modelId=mistv3&audioFormat=pcm';

/** The frames rimeTts sends for `text`: each segment sentences() makes, `<FLUSH>` after each, then `<EOS>`. */
async function framesOf(text: readonly string[]): Promise<string[]> {
  const segments = await lastValueFrom(from(text).pipe(segmenting(), toArray()));
  return [...segments.flatMap((segment) => [segment, '<FLUSH>']), '<EOS>'];
}


/**
 * A client in the style of Rime's own example: sends the text token by token, then `<EOS>`, and accumulates the
 * audio by concatenation (`audio_data += audio`), handing it over only at the end.
 */
function naiveClient(url: string, text: string, onAudio: (bytes: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let audio = Buffer.alloc(0);
    const socket = new WebSocket(`${url}${naiveQuery}`, { headers: { Authorization: 'Bearer bench' } });
    socket.on('open', () => {
      for (const token of llmTokens(text, { seed: 3 })) socket.send(token);
      socket.send('<EOS>');
    });
    socket.on('message', (data: Buffer) => {
      audio = Buffer.concat([audio, data]);
      onAudio(data.length);
    });
    socket.on('close', () => resolve(audio));
    socket.on('error', reject);
  });
}

interface MemoryUse {
  readonly before: number;
  readonly peak: number;
  readonly after: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** RSS before, at the peak (sampled every 50 ms) and after `work`, which reports the audio bytes it received. */
async function memoryWhile(work: (onAudio: (bytes: number) => void) => Promise<unknown>): Promise<MemoryUse> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let bytes = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = performance.now();
  await work((count) => (bytes += count));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return { before, peak: Math.max(peak, process.memoryUsage().rss), after: process.memoryUsage().rss, bytes, seconds };
}

/** rimeTts as a voice agent uses it: a new operator per stream, built from the same config. */
function rimeClient(url: string, text: readonly string[], onAudio: (bytes: number) => void): Promise<unknown> {
  return speakWith(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url }), text, onAudio);
}

function speakWith(operator: OperatorFunction<string, Uint8Array>, text: readonly string[], onAudio: (bytes: number) => void): Promise<unknown> {
  return lastValueFrom(from(text).pipe(operator, tap((chunk) => onAudio(chunk.length))), { defaultValue: undefined });
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
  const runs = options.quick ? 5 : 150;
  const latency = await startServerProcess(['--first-audio-ms', '20']);
  const rawTtfa: number[] = [];
  const rimeTtfa: number[] = [];
  const reusedTtfa: number[] = [];
  const naiveTtfa: number[] = [];
  // The raw client sends exactly the frames rimeTts sends.
  const sentenceFrames = await framesOf([sentence]);
  try {
    const tokens = llmTokens(sentence, { seed: 3 });
    const reused = rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url: latency.url });
    const clients: [number[], (onAudio: (bytes: number) => void) => Promise<unknown>][] = [
      [rawTtfa, (onAudio) => rawClient(`${latency.url}${query}`, sentenceFrames, onAudio)],
      [rimeTtfa, (onAudio) => rimeClient(latency.url, tokens, onAudio)],
      [reusedTtfa, (onAudio) => speakWith(reused, tokens, onAudio)],
      [naiveTtfa, (onAudio) => naiveClient(latency.url, sentence, onAudio)],
    ];
    let seed = 7;
    for (let run = 0; run < runs; run++) {
      // A different order every run, so no client always follows the same one.
      const order = clients.map((client) => ({ client, key: (seed = (seed * 16807) % 2147483647) })).sort((a, b) => a.key - b.key);
      for (const { client: [samples, client] } of order) samples.push(await firstAudio(client));
    }
  } finally {
    await latency.stop();
  }
  const raw = stats(rawTtfa);
  const ours = stats(rimeTtfa);
  const naive = stats(naiveTtfa);
  // Runs are interleaved, so pairing them cancels the drift of the machine's load.
  const added = stats(rimeTtfa.map((ms, run) => ms - (rawTtfa[run] ?? ms)));
  const reusedStats = stats(reusedTtfa);
  const addedReused = stats(reusedTtfa.map((ms, run) => ms - (rawTtfa[run] ?? ms)));

  const fast = await startServerProcess([]);
  const sentences = options.quick ? 40 : 400;
  const text = Array.from({ length: sentences }, (_, index) => `Sentence number ${index} is spoken at a steady pace, on and on. `);
  const rawRates: number[] = [];
  const rimeRates: number[] = [];
  let streamedBytes = 0;
  let memory: MemoryUse;
  let naiveMemory: MemoryUse;
  let oursSmall: MemoryUse;
  const naiveTarget = (options.quick ? 2 : 8) * 2 ** 20;
  try {
    // The raw client sends exactly the frames rimeTts sends.
    const frames = await framesOf(text);
    for (let run = 0; run < (options.quick ? 1 : 5); run++) {
      rawRates.push((await throughput((onAudio) => rawClient(`${fast.url}${query}`, frames, onAudio))).bytesPerSecond);
      const ours = await throughput((onAudio) => rimeClient(fast.url, text, onAudio));
      rimeRates.push(ours.bytesPerSecond);
      streamedBytes = ours.bytes;
    }
    const target = (options.quick ? 20 : 500) * 2 ** 20;
    const perSentence = streamedBytes / sentences;
    const sentencesFor = (bytes: number) => Math.ceil(bytes / perSentence);
    const long = (count: number) => range(0, count).pipe(map((index) => `Sentence number ${index} is spoken at a steady pace, on and on. `));
    const streamThroughRimeTts = (count: number) => (onAudio: (bytes: number) => void) =>
      lastValueFrom(
        long(count).pipe(
          rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url: fast.url }),
          tap((chunk) => onAudio(chunk.length)),
        ),
        { defaultValue: undefined },
      );
    memory = await memoryWhile(streamThroughRimeTts(sentencesFor(target)));
    const naiveText = await lastValueFrom(long(sentencesFor(naiveTarget)).pipe(toArray()));
    naiveMemory = await memoryWhile((onAudio) => naiveClient(fast.url, naiveText.join(''), onAudio));
    oursSmall = await memoryWhile(streamThroughRimeTts(sentencesFor(naiveTarget)));
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
      'the client alone; the raw client is a bare `ws` socket sending the same frames (`segment=never`, each segment and',
      'a `<FLUSH>`, then `<EOS>`).',
      '',
      `**Time to first audio**, from the start of the client (connect included) to its first audio byte, server time to`,
      `first audio fixed at 20 ms; median (min–max) of ${runs} runs each, interleaved in a shuffled order:`,
      '',
      '| client | time to first audio |',
      '|---|---|',
      `| raw ws (baseline): the same frames | ${format.spread(raw, 'ms', 2)} |`,
      `| rimeTts: the sentence as LLM tokens, a new operator per stream | ${format.spread(ours, 'ms', 2)} |`,
      `| rimeTts: the same, one operator reused for every stream | ${format.spread(reusedStats, 'ms', 2)} |`,
      `| naive client in the style of Rime's example: token by token | ${format.spread(naive, 'ms', 2)} |`,
      '',
      `Added by rimeTts: **${format.fixed(ours.median - raw.median, 2)} ms** between the medians, ${format.fixed(added.median, 2)} ms as the`,
      `median of the ${runs} paired differences (target: under 0.1 ms); with a reused operator ${format.fixed(reusedStats.median - raw.median, 2)} ms`,
      `(${format.fixed(addedReused.median, 2)} ms paired; target under 0.05 ms); the naive client ${format.fixed(naive.median - raw.median, 2)} ms (it has no operator at all: this much is the`,
      'spread between plain sockets).',
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
      `**Memory** (RSS) while streaming audio through one client, sampled every 50 ms:`,
      '',
      '| client | audio | time | RSS before | peak | growth |',
      '|---|---|---|---|---|---|',
      `| rimeTts | ${mb(memory.bytes)} | ${format.fixed(memory.seconds, 1)} s | ${mb(memory.before)} | ${mb(memory.peak)} | **+${mb(memory.peak - memory.before)}** |`,
      `| rimeTts | ${mb(oursSmall.bytes)} | ${format.fixed(oursSmall.seconds, 1)} s | ${mb(oursSmall.before)} | ${mb(oursSmall.peak)} | +${mb(oursSmall.peak - oursSmall.before)} |`,
      `| naive client (concatenates) | ${mb(naiveMemory.bytes)} | ${format.fixed(naiveMemory.seconds, 1)} s | ${mb(naiveMemory.before)} | ${mb(naiveMemory.peak)} | +${mb(naiveMemory.peak - naiveMemory.before)} |`,
      '',
      'rimeTts target: flat, under 20 MB of growth. The naive client holds all the audio and copies it on every message',
      `(quadratic time), so it is measured on ${mb(naiveTarget)} only.`,
    ].join('\n'),
  };
}
