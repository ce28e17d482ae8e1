import { Subject, filter, firstValueFrom, from, lastValueFrom, map, tap } from 'rxjs';
import type { ProtocolName } from '../lib/options';
import { createRimeServer } from '../lib/server/createRimeServer';
import { rimeTts } from '../lib/tts/rimeTts';
import { type TurnEvent, rimeTurns } from '../lib/tts/rimeTurns';
import { type BenchOptions, type Section, format, stats } from './harness';

/** What a TLS and websocket handshake costs over a real network (peers measured 0.3-0.6 s). */
const HANDSHAKE_MS = 300;
const reply = (turn: number) => [`This is reply number ${turn}, `, 'spoken as its own turn ', 'of the conversation.'];
const config = { speaker: 'cove', audioFormat: 'pcm', apiKey: 'bench' } as const;

/** First audio of each reply through one rimeTurns, from the reply's first token to its first byte. */
async function throughTurns(url: string, protocol: ProtocolName, turns: number): Promise<number[]> {
  const replies = new Subject<readonly string[]>();
  const events = new Subject<TurnEvent>();
  const finished = new Promise<void>((resolve, reject) =>
    replies.pipe(map((tokens) => from(tokens)), rimeTurns({ ...config, url, protocol })).subscribe({ next: (event) => events.next(event), complete: resolve, error: reject }),
  );
  const firstAudio: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const first = firstValueFrom(events.pipe(filter((event) => event.turn === turn && event.type === 'audio')));
    const end = firstValueFrom(events.pipe(filter((event) => event.turn === turn && event.type === 'done')));
    const started = performance.now();
    replies.next(reply(turn));
    await first;
    firstAudio.push(performance.now() - started);
    await end;
  }
  replies.complete();
  await finished;
  return firstAudio;
}

/** First audio of each reply spoken by a subscription of its own (as an agent that subscribes per reply does). */
async function perReply(url: string, turns: number): Promise<number[]> {
  const firstAudio: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const started = performance.now();
    let first: number | undefined;
    await lastValueFrom(from(reply(turn)).pipe(rimeTts({ ...config, url }), tap(() => (first ??= performance.now() - started))), { defaultValue: undefined });
    firstAudio.push(first ?? Number.NaN);
  }
  return firstAudio;
}

/**
 * A conversation of 20 turns against a server whose handshake costs 300 ms: first audio per turn through one
 * rimeTurns (on both protocols) beside one rimeTts subscription per turn, in the same run.
 */
export async function benchTurns(options: BenchOptions): Promise<Section> {
  const turns = options.quick ? 4 : 20;
  const server = await createRimeServer({ log: () => {}, handshakeDelayMs: HANDSHAKE_MS, firstAudioMs: 20 });
  try {
    const perTurn = await perReply(server.urls.ws, turns);
    const turnsWs = await throughTurns(server.urls.ws, 'ws', turns);
    const turnsWs3 = await throughTurns(server.urls.ws3, 'ws3', turns);
    const row = (name: string, samples: readonly number[]) => {
      const later = stats(samples.slice(1));
      const slowLater = samples.slice(1).filter((ms) => ms >= HANDSHAKE_MS).length;
      return `| ${name} | ${format.fixed(samples[0] ?? 0, 0)} ms | ${format.spread(later, 'ms', 0)} | ${slowLater} of ${turns - 1} |`;
    };
    return {
      title: 'A conversation: 20 turns, a 300 ms handshake',
      markdown: [
        `${turns} replies, one after the other (each sent when the last one's audio ended), against the local server with a`,
        `${HANDSHAKE_MS} ms handshake (what TLS and a websocket upgrade cost over a network) and 20 ms to first audio.`,
        'First audio is timed from the reply\'s first token to its first audio byte.',
        '',
        '| client | first turn | turns 2 to 20: median (min–max) | later turns that paid a handshake |',
        '|---|---|---|---|',
        row('a rimeTts subscription per reply (default `/ws`)', perTurn),
        row('one rimeTurns, `/ws` (a connection per turn, the next opened ahead)', turnsWs),
        row('one rimeTurns, `/ws3` (one connection)', turnsWs3),
        '',
        'A turn "paid a handshake" when its first audio took longer than the handshake alone.',
      ].join('\n'),
    };
  } finally {
    await server.close();
  }
}
