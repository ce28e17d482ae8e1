import { Subject, from, lastValueFrom, tap } from 'rxjs';
import { createRimeServer } from '../lib/server/createRimeServer';
import type { Fault } from '../lib/server/faults';
import { decodeTestSpeech } from '../lib/server/voices/testVoiceCodec';
import { llmTokens } from '../lib/testing/llmTokens';
import { rimeTts } from '../lib/tts/rimeTts';
import type { ProtocolName } from '../lib/options';
import { type BenchOptions, type Section, format, stats } from './harness';
import { startServerProcess } from './serverProcess';

const protocols: readonly ProtocolName[] = ['ws', 'ws3'];
const sentence = 'The quick brown fox jumps over the lazy dog, then rests.';

/** One stream of `tokens` through rimeTts on `protocol`; reports each audio chunk's size. */
function speak(urls: Readonly<Record<ProtocolName, string>>, protocol: ProtocolName, tokens: readonly string[], onAudio: (bytes: number) => void, extra = {}) {
  const operator = rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url: urls[protocol], protocol, ...extra });
  return lastValueFrom(from(tokens).pipe(operator, tap((chunk) => onAudio(chunk.length))), { defaultValue: undefined });
}

const urlsOf = (url: string) => ({ ws: url, ws3: url.replace(/\/ws$/, '/ws3') });

/**
 * The two protocols side by side, in the same run, interleaved: first audio, throughput (the JSON protocol's audio
 * travels as base64), connections per stream for a voice agent (five turns, an interruption), and what a retry
 * says twice under injected faults.
 */
export async function benchProtocols(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 5 : 100;
  const latency = await startServerProcess(['--first-audio-ms', '20']);
  const ttfa: Record<ProtocolName, number[]> = { ws: [], ws3: [] };
  try {
    const tokens = llmTokens(sentence, { seed: 3 });
    for (let run = 0; run < runs; run++) {
      for (const protocol of run % 2 === 0 ? protocols : [...protocols].reverse()) {
        const started = performance.now();
        let first = 0;
        await speak(urlsOf(latency.url), protocol, tokens, () => (first ||= performance.now() - started));
        ttfa[protocol].push(first);
      }
    }
  } finally {
    await latency.stop();
  }

  const fast = await startServerProcess([]);
  const sentences = options.quick ? 40 : 400;
  const text = Array.from({ length: sentences }, (_, index) => `Sentence number ${index} is spoken at a steady pace, on and on. `);
  const rates: Record<ProtocolName, number[]> = { ws: [], ws3: [] };
  try {
    for (let run = 0; run < (options.quick ? 1 : 7); run++) {
      for (const protocol of run % 2 === 0 ? protocols : [...protocols].reverse()) {
        let bytes = 0;
        const started = performance.now();
        await speak(urlsOf(fast.url), protocol, text, (count) => (bytes += count));
        rates[protocol].push(bytes / ((performance.now() - started) / 1000));
      }
    }
  } finally {
    await fast.stop();
  }

  // In process: the server's events count connections and syntheses.
  const server = await createRimeServer({ log: () => {}, realTimeFactor: 0.02 });
  const connections: Record<ProtocolName, number> = { ws: 0, ws3: 0 };
  const duplicated: Record<ProtocolName, number[]> = { ws: [], ws3: [] };
  const schedules = options.quick ? 5 : 40;
  try {
    const agentTurns = ['Hello, how can I help?', 'Your order shipped yesterday.', 'It should arrive on Friday.', 'Anything else?', 'Goodbye!'];
    for (const protocol of protocols) {
      let opened = 0;
      const counting = server.events.subscribe((event) => event.type === 'open' && opened++);
      const flush = new Subject<void>();
      const clear = new Subject<void>();
      const source = new Subject<string>();
      const done = lastValueFrom(source.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url: urlsOf(server.url)[protocol], protocol, flush, clear })), {
        defaultValue: undefined,
      });
      for (const [index, turn] of agentTurns.entries()) {
        source.next(turn);
        if (index === 2) clear.next();
        else flush.next();
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      source.complete();
      await done;
      counting.unsubscribe();
      connections[protocol] = opened;
    }
    const story = 'The first sentence starts the story. Then a second one follows, with a clause! Does the third ask? The fourth is short. And the fifth ends it all.';
    let seed = 11;
    for (let schedule = 0; schedule < schedules; schedule++) {
      seed = (seed * 16807) % 2147483647;
      const fault: Fault = { kind: 'drop', afterBytes: seed % 120_000 };
      for (const protocol of protocols) {
        server.inject(fault);
        const chunks: Uint8Array[] = [];
        await lastValueFrom(
          from(llmTokens(story, { seed: schedule })).pipe(
            rimeTts({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 8000, apiKey: 'bench', url: urlsOf(server.url)[protocol], protocol, retry: { delay: 1 } }),
            tap((chunk) => chunks.push(chunk)),
          ),
          { defaultValue: undefined },
        );
        duplicated[protocol].push(decodeTestSpeech(Buffer.concat(chunks)).text.length - story.length);
      }
    }
  } finally {
    await server.close();
  }
  const ttfaStats = { ws: stats(ttfa.ws), ws3: stats(ttfa.ws3) };
  const rateStats = { ws: stats(rates.ws), ws3: stats(rates.ws3) };
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB/s`;
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    title: 'The two protocols side by side',
    markdown: [
      `rimeTts on Rime's plain protocol (\`/ws\`, the default) and on its JSON protocol (\`/ws3\`, \`protocol: 'ws3'\`), against the`,
      'local server, interleaved in the same run; both with the default configuration.',
      '',
      '| measure | `/ws` | `/ws3` | `/ws3` against `/ws` |',
      '|---|---|---|---|',
      `| first audio, one sentence as LLM tokens (server adds 20 ms), ${runs} runs each | ${format.spread(ttfaStats.ws, 'ms', 2)} | ${format.spread(ttfaStats.ws3, 'ms', 2)} | ${(ttfaStats.ws3.median - ttfaStats.ws.median).toFixed(2)} ms |`,
      `| throughput, ${sentences} sentences (the JSON protocol's audio is base64) | ${mib(rateStats.ws.median)} | ${mib(rateStats.ws3.median)} | **${(rateStats.ws3.median / rateStats.ws.median).toFixed(2)}x** |`,
      `| connections for a voice agent's 5 turns (4 flushes, 1 interruption) | ${connections.ws} | ${connections.ws3} | |`,
      `| duplicated characters after a drop at a random byte, mean of ${schedules} | ${mean(duplicated.ws).toFixed(1)} | ${mean(duplicated.ws3).toFixed(1)} | |`,
      '',
      "On `/ws` each turn has a connection of its own (so a retry reaches back no further than its turn) and an",
      'interruption moves to a spare; on `/ws3` one connection serves every turn and a retry resumes where the listener',
      'is: what Rime finished is never said again, and what was heard of the segment in flight is skipped.',
    ].join('\n'),
  };
}
