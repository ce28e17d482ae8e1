import { Subscription, map, merge, timer } from 'rxjs';
import { WebSocket } from 'ws';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, stats } from './harness';
import { startServerProcess } from './serverProcess';

const text = 'Let me check that for you. I found three flights to Boston tomorrow morning, and one at night.';
/** Word-sized tokens with punctuation on its own, as LLM tokenizers cut English. */
const tokens: readonly string[] = text.match(/\s*[\w']+|[^\w\s]/g) ?? [];
const firstSentenceEnd = tokens.indexOf('.');
const TOKEN_INTERVAL_MS = 30;

/** When each token arrives: one every 30 ms, with `pauseMs` after the first sentence (a tool call). */
function arrivals(pauseMs: number): number[] {
  return tokens.map((_, index) => index * TOKEN_INTERVAL_MS + (index > firstSentenceEnd ? pauseMs : 0));
}

type Client = (url: string, times: readonly number[]) => Promise<number>;

/**
 * A client in the style of Rime's example (`segment` left at Rime's default, `bySentence`), streaming: each token
 * is sent the moment it arrives. Resolves with the milliseconds from the first token to the first audio byte.
 */
const seedStyle: Client = (url, times) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new WebSocket(`${url}?speaker=cove&modelId=mistv3&audioFormat=pcm`, { headers: { Authorization: 'Bearer bench' } });
    const opened = new Promise<void>((ready) => socket.once('open', () => ready()));
    const sends = times.map((at, index) => setTimeout(() => void opened.then(() => socket.send(tokens[index] ?? '')), at));
    socket.once('message', () => {
      resolve(performance.now() - started);
      sends.forEach(clearTimeout);
      socket.terminate();
    });
    socket.once('error', reject);
  });

/** rimeTts with its defaults, given the same tokens at the same moments. */
const ours: Client = (url, times) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const tokens$ = merge(...times.map((at, index) => timer(at).pipe(map(() => tokens[index] ?? ''))));
    const subscription: Subscription = tokens$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url })).subscribe({
      next: () => {
        resolve(performance.now() - started);
        subscription.unsubscribe();
      },
      error: reject,
    });
  });

/**
 * End-to-end time to first audio from an LLM-like stream (a token every 30 ms), rimeTts beside a seed-style
 * client, on servers whose `bySentence` buffering fires at trailing punctuation or waits for whitespace, with and
 * without a pause after the first sentence.
 */
export async function benchEndToEnd(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 1 : 15;
  const pauseMs = options.quick ? 300 : 2000;
  const rows: string[] = [];
  for (const buffering of ['punctuation', 'whitespace'] as const) {
    const server = await startServerProcess(['--first-audio-ms', '20', '--sentence-buffering', buffering]);
    try {
      for (const pause of [0, pauseMs]) {
        const times = arrivals(pause);
        const samples: Record<'seed' | 'ours', number[]> = { seed: [], ours: [] };
        for (let run = 0; run < runs; run++) {
          // Alternating which client goes first, so neither always follows the other.
          const order = run % 2 === 0 ? (['seed', 'ours'] as const) : (['ours', 'seed'] as const);
          for (const name of order) samples[name].push(await (name === 'seed' ? seedStyle : ours)(server.url, times));
        }
        const seed = stats(samples.seed);
        const mine = stats(samples.ours);
        const difference = stats(samples.ours.map((ms, run) => ms - (samples.seed[run] ?? ms)));
        rows.push(
          `| ${buffering} | ${pause === 0 ? 'none' : `${pause / 1000} s after the first sentence`} | ${format.spread(seed, 'ms')} | ` +
            `${format.spread(mine, 'ms')} | **${difference.median >= 0 ? '+' : ''}${format.fixed(difference.median, 0)} ms** |`,
        );
      }
    } finally {
      await server.stop();
    }
  }
  const sentenceTokens = firstSentenceEnd + 1;
  return {
    title: 'End-to-end first audio from an LLM-like stream',
    markdown: [
      `The text \`${text}\` as ${tokens.length} word-sized tokens (the first sentence is ${sentenceTokens}, its \`.\` a token of its`,
      `own), one every ${TOKEN_INTERVAL_MS} ms, from the first token to the first audio byte; the local server in its own process, 20 ms`,
      `to first audio. The seed-style client sends each token the moment it arrives, in Rime's default \`bySentence\` mode;`,
      'rimeTts runs with its defaults (`segment=never`, a flush per segment, `releaseAfterMs` 150). Median (min–max) of',
      `${runs} runs each, alternating; the difference is the median of the paired differences.`,
      '',
      '| server fires bySentence at | pause | seed-style client | rimeTts | rimeTts − seed |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Target: within one token interval (${TOKEN_INTERVAL_MS} ms) of the seed-style client without a pause, and a finished sentence`,
      'never held past the release time (150 ms) by a pause. The seed-style client is ahead by one token on a server that',
      'fires at trailing punctuation (rimeTts waits for the next token to tell `you.` from `3.14`), level on one that waits',
      'for whitespace, and behind by the release time during a pause; on a server that waits for whitespace it is the',
      'seed-style client that waits out the whole pause.',
    ].join('\n'),
  };
}
