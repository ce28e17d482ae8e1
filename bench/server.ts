import { WebSocket } from 'ws';
import { createRimeServer } from '../lib/server/createRimeServer';
import { createTestVoice } from '../lib/server/voices/test';
import type { Voice } from '../lib/server/voices/voice';
import { type BenchOptions, type Section, format, stats } from './harness';
import { prose } from './sentences';

const samplingRate = 22050;

function sentencesOf(count: number): string[] {
  return (prose(count * 90).match(/[^.?!]+[.?!]/g) ?? []).slice(0, count).map((sentence) => sentence.trim());
}

/** Characters a second, and the real-time factor (wall time per second of audio), of one voice. */
async function synthesisSpeed(voice: Voice, sentences: readonly string[]) {
  let samples = 0;
  const started = process.hrtime.bigint();
  for (const text of sentences) {
    const request = { text, lang: 'eng', speaker: 'cove', speedAlpha: 1, samplingRate, pauseBetweenBrackets: false, phonemizeBetweenBrackets: false };
    for await (const chunk of voice.synthesize(request)) samples += chunk.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const characters = sentences.reduce((total, sentence) => total + sentence.length, 0);
  return { charactersPerSecond: characters / seconds, realTimeFactor: seconds / (samples / samplingRate), msPerSentence: (seconds * 1000) / sentences.length };
}

/** Opens `count` connections at once; each sends one sentence and `<EOS>`; returns each one's time to first audio (ms). */
async function concurrentFirstAudio(url: string, count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => {
      const socket = new WebSocket(`${url}?speaker=cove&audioFormat=pcm`, { headers: { Authorization: 'Bearer bench' } });
      return new Promise<WebSocket>((resolve, reject) => socket.once('open', () => resolve(socket)).once('error', reject));
    }),
  );
  return Promise.all(
    sockets.map(
      (socket, index) =>
        new Promise<number>((resolve) => {
          let firstAudio = 0;
          const sent = process.hrtime.bigint();
          socket.once('message', () => (firstAudio = Number(process.hrtime.bigint() - sent) / 1e6));
          socket.once('close', () => resolve(firstAudio));
          socket.send(`Connection number ${index} says hello.`);
          socket.send('<EOS>');
        }),
    ),
  );
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function benchServer(options: BenchOptions): Promise<Section> {
  const sentences = sentencesOf(options.quick ? 5 : 60);
  const voices: Voice[] = [createTestVoice()];
  try {
    const { createEspeakVoice } = require('../lib/server/voices/espeak') as typeof import('../lib/server/voices/espeak');
    voices.push(await createEspeakVoice());
  } catch (error) {
    process.stderr.write(`bench: espeak voice unavailable (${String(error)})\n`);
  }
  const speedRows: string[] = [];
  for (const voice of voices) {
    await synthesisSpeed(voice, sentences.slice(0, 3));
    const speed = await synthesisSpeed(voice, sentences);
    speedRows.push(
      `| ${voice.name} | ${format.int(speed.charactersPerSecond)} | ${format.fixed(speed.msPerSentence, 2)} | ${speed.realTimeFactor.toPrecision(2)} |`,
    );
    await voice.close();
  }

  const connections = options.quick ? 20 : 500;
  const server = await createRimeServer({ log: () => {}, maxConnections: connections + 10 });
  try {
    const single = stats(await Promise.all(Array.from({ length: options.quick ? 3 : 20 }, async () => (await concurrentFirstAudio(server.url, 1))[0] ?? 0)));
    const many = await concurrentFirstAudio(server.url, connections);
    const p50 = percentile(many, 50);
    return {
      title: 'The local server',
      markdown: [
        `Synthesis speed of each voice over ${sentences.length} sentences of LLM-like prose at ${samplingRate} Hz, after a warm-up`,
        '(real-time factor: seconds of work per second of audio; lower is faster).',
        '',
        '| voice | characters/s | ms/sentence | real-time factor |',
        '|---|---|---|---|',
        ...speedRows,
        '',
        `${connections} connections opened at once, each sending one sentence and \`<EOS>\` to an in-process server with the`,
        'test voice and no latency model; time to first audio is from the send to the first binary frame, beside a single',
        'connection on its own as the baseline.',
        '',
        '| | p50 | p99 | max |',
        '|---|---|---|---|',
        `| 1 connection (baseline, ${options.quick ? 3 : 20} runs) | ${format.fixed(single.median, 2)} ms | | ${format.fixed(single.max, 2)} ms |`,
        `| ${connections} at once | ${format.fixed(p50, 2)} ms | ${format.fixed(percentile(many, 99), 2)} ms | ${format.fixed(Math.max(...many), 2)} ms |`,
        '',
        `All ${many.filter((ms) => ms > 0).length} of ${connections} connections received audio; p50 is ${format.fixed(p50 / single.median, 1)}x the single connection's.`,
      ].join('\n'),
    };
  } finally {
    await server.close();
  }
}
