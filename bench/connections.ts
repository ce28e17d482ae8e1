import { NEVER, concatMap, delay, from, lastValueFrom, of } from 'rxjs';
import { WebSocket } from 'ws';
import { type RimeServer, createRimeServer } from '../lib/server/createRimeServer';
import { llmTokens } from '../lib/testing/llmTokens';
import { rimeTts } from '../lib/tts/rimeTts';
import type { BenchOptions, Section } from './harness';

/** Connections the server saw while `work` ran, and how many of them were sent any text. */
async function countConnections(server: RimeServer, work: () => Promise<unknown>): Promise<{ opened: number; withText: number }> {
  const opened = new Set<number>();
  const withText = new Set<number>();
  const watching = server.events.subscribe((event) => {
    if (event.type === 'open') opened.add(event.connection);
    if (event.type === 'text') withText.add(event.connection);
  });
  await work();
  watching.unsubscribe();
  return { opened: opened.size, withText: withText.size };
}

/** The raw baseline: one `ws` socket sending the sentence and `<EOS>`, until the server closes it. */
function rawStream(url: string, sentence: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?speaker=cove&audioFormat=pcm`, { headers: { Authorization: 'Bearer bench' } });
    socket.on('open', () => {
      socket.send(sentence);
      socket.send('<EOS>');
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

function speak(url: string, tokens: readonly string[], interruptible: boolean, tokenMs = 0): Promise<unknown> {
  const source = tokenMs === 0 ? from(tokens) : from(tokens).pipe(concatMap((token) => of(token).pipe(delay(tokenMs))));
  return lastValueFrom(
    source.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench', url, ...(interruptible ? { clear: NEVER } : {}) })),
    { defaultValue: undefined },
  );
}

/**
 * Connections per stream: rimeTts without and with `clear` (the spare an interruption continues on) beside a raw
 * client, for many one-sentence streams and for one long stream against a server that closes idle connections fast.
 */
export async function benchConnections(options: BenchOptions): Promise<Section> {
  const streams = options.quick ? 10 : 100;
  const sentence = 'Each stream speaks one sentence, token by token, and then it is done.';
  const tokens = llmTokens(sentence, { seed: 5 });
  const server = await createRimeServer({ log: () => {}, firstAudioMs: 20, realTimeFactor: 0.05 });
  const sentences = options.quick ? 5 : 20;
  const idleMs = 300;
  const idleServer = await createRimeServer({ log: () => {}, idleTimeoutMs: idleMs, realTimeFactor: 0.2 });
  const long = Array.from({ length: sentences }, (_, index) => llmTokens(`Sentence number ${index} is here. `, { seed: index })).flat();
  try {
    const all = (run: () => Promise<unknown>) => () => Promise.all(Array.from({ length: streams }, run));
    const raw = await countConnections(server, all(() => rawStream(server.url, sentence)));
    const plain = await countConnections(server, all(() => speak(server.url, tokens, false, 30)));
    const interruptible = await countConnections(server, all(() => speak(server.url, tokens, true, 30)));
    const longPlain = await countConnections(idleServer, () => speak(idleServer.url, long, false, 30));
    const longInterruptible = await countConnections(idleServer, () => speak(idleServer.url, long, true, 30));
    const perStream = (count: { opened: number; withText: number }, of = streams) =>
      `${(count.opened / of).toFixed(2)} | ${((count.opened - count.withText) / of).toFixed(2)}`;
    return {
      title: 'Connections per stream',
      markdown: [
        `${streams} one-sentence streams at once (LLM-like tokens, one every 30 ms), then one stream of ${sentences} sentences (a token every 30 ms)`,
        `against a server that closes a connection idle for ${idleMs} ms; the local server counts every connection it accepts`,
        'and those that were sent any text.',
        '',
        '| client | connections per stream | of them never sent text |',
        '|---|---|---|',
        `| raw ws (baseline), ${streams} streams | ${perStream(raw)} |`,
        `| rimeTts, no \`clear\`, ${streams} streams | ${perStream(plain)} |`,
        `| rimeTts with \`clear\` (a spare for interruptions), ${streams} streams | ${perStream(interruptible)} |`,
        `| rimeTts, no \`clear\`, ${sentences} sentences, idle close at ${idleMs} ms | ${perStream(longPlain, 1)} |`,
        `| rimeTts with \`clear\`, ${sentences} sentences, idle close at ${idleMs} ms | ${perStream(longInterruptible, 1)} |`,
        '',
        'Target: exactly 1 without `clear`; with `clear` at most one spare at a time, not reopened after every idle close.',
      ].join('\n'),
    };
  } finally {
    await server.close();
    await idleServer.close();
  }
}
