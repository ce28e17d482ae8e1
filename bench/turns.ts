import { type OperatorFunction, Subject, filter, firstValueFrom, from, lastValueFrom, map, tap } from 'rxjs';
import type { ProtocolName } from '../lib/options';
import { createRimeServer } from '../lib/server/createRimeServer';
import { rimeConnection } from '../lib/tts/rimeConnection';
import { rimeTts } from '../lib/tts/rimeTts';
import { type TurnEvent, rimeTurns } from '../lib/tts/rimeTurns';
import { type BenchOptions, type Section, format, stats } from './harness';

/** What a TLS and websocket handshake costs over a real network (peers measured 0.3-0.6 s). */
const HANDSHAKE_MS = 300;
/**
 * The listener's turn between two replies: the shortest there is (a "yes", and the end of speech detected). The
 * local server synthesizes as fast as it can, so without it a reply would follow the last one's audio by
 * milliseconds, when that audio has only begun to play.
 */
const LISTENER_MS = 500;
const listen = () => new Promise((resolve) => setTimeout(resolve, LISTENER_MS));
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
    if (turn > 0) await listen();
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

/**
 * First audio of each reply spoken by a subscription of its own (as an agent that subscribes per reply does), each
 * made by `speaker` (a new `rimeTts`, or a use of a warm connection).
 */
async function perReply(speaker: () => OperatorFunction<string, Uint8Array>, turns: number, pause = listen): Promise<number[]> {
  const firstAudio: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    if (turn > 0) await pause();
    const started = performance.now();
    let first: number | undefined;
    await lastValueFrom(from(reply(turn)).pipe(speaker(), tap(() => (first ??= performance.now() - started))), { defaultValue: undefined });
    firstAudio.push(first ?? Number.NaN);
  }
  return firstAudio;
}

/** Time between making a warm connection and the first reply, as between a call's start and the agent's greeting. */
const CALL_SETUP_MS = 1000;

/** {@link perReply} with every reply a use of one `rimeConnection()`, made when the call starts. */
async function onWarmConnection(url: string, protocol: ProtocolName, turns: number, pause = listen): Promise<number[]> {
  const rime = rimeConnection({ ...config, url, protocol });
  try {
    await new Promise((resolve) => setTimeout(resolve, CALL_SETUP_MS));
    return await perReply(() => rime.tts(), turns, pause);
  } finally {
    rime.close();
  }
}

/** A long answer, interrupted early, then the agent's next reply. */
const LONG_ANSWER = ['Here is a long answer. ', 'It has a few sentences. ', 'Each one is a synthesis of its own. ', 'The listener speaks early.'];
const BARGE_IN_AFTER_MS = 600;

/**
 * Against a server that synthesizes at real-time pace: milliseconds from a barge-in (600 ms into a long answer) to
 * the first audio of the reply the agent emits right after it, through one rimeTurns.
 */
async function afterBargeIn(url: string, protocol: ProtocolName): Promise<number> {
  const replies = new Subject<readonly string[]>();
  const clear = new Subject<void>();
  const events = new Subject<TurnEvent>();
  const finished = new Promise<void>((resolve, reject) =>
    replies.pipe(map((tokens) => from(tokens)), rimeTurns({ ...config, url, protocol, clear })).subscribe({ next: (event) => events.next(event), complete: resolve, error: reject }),
  );
  const nextAudio = firstValueFrom(events.pipe(filter((event) => event.turn === 1 && event.type === 'audio')));
  replies.next(LONG_ANSWER);
  await new Promise((resolve) => setTimeout(resolve, BARGE_IN_AFTER_MS));
  clear.next();
  const interruptedAt = performance.now();
  replies.next(['Okay, go ahead.']);
  await nextAudio;
  const waited = performance.now() - interruptedAt;
  replies.complete();
  await finished;
  return waited;
}

/**
 * A conversation of 20 turns against a server whose handshake costs 300 ms: first audio per turn through one
 * rimeTurns (on both protocols) beside one rimeTts subscription per turn, in the same run.
 */
export async function benchTurns(options: BenchOptions): Promise<Section> {
  const turns = options.quick ? 4 : 20;
  const server = await createRimeServer({ log: () => {}, handshakeDelayMs: HANDSHAKE_MS, firstAudioMs: 20 });
  try {
    const perTurn = await perReply(() => rimeTts({ ...config, url: server.urls.ws }), turns);
    const warmWs = await onWarmConnection(server.urls.ws, 'ws', turns);
    const warmWs3 = await onWarmConnection(server.urls.ws3, 'ws3', turns);
    const noPause = async () => {};
    const warmWsAtOnce = await onWarmConnection(server.urls.ws, 'ws', turns, noPause);
    const warmWs3AtOnce = await onWarmConnection(server.urls.ws3, 'ws3', turns, noPause);
    const turnsWs = await throughTurns(server.urls.ws, 'ws', turns);
    const turnsWs3 = await throughTurns(server.urls.ws3, 'ws3', turns);
    const realTime = await createRimeServer({ log: () => {}, realTimeFactor: 1 });
    const bargeIns: Record<ProtocolName, number[]> = { ws: [], ws3: [] };
    try {
      for (let run = 0; run < (options.quick ? 1 : 5); run++) {
        for (const protocol of ['ws', 'ws3'] as const) bargeIns[protocol].push(await afterBargeIn(realTime.urls[protocol], protocol));
      }
    } finally {
      await realTime.close();
    }
    const row = (name: string, samples: readonly number[]) => {
      const later = stats(samples.slice(1));
      const slowLater = samples.slice(1).filter((ms) => ms >= HANDSHAKE_MS / 2).length;
      return `| ${name} | ${format.fixed(samples[0] ?? 0, 0)} ms | ${format.spread(later, 'ms', 0)} | ${slowLater} of ${turns - 1} |`;
    };
    return {
      title: 'A conversation: 20 turns, a 300 ms handshake',
      markdown: [
        `${turns} replies, one after the other (each sent ${LISTENER_MS} ms after the last one's audio ended: the listener's`,
        `turn), against the local server with a ${HANDSHAKE_MS} ms handshake (what TLS and a websocket upgrade cost over a`,
        'network) and 20 ms to first audio. First audio is timed from the reply\'s first token to its first audio byte.',
        '',
        '| client | first turn | turns 2 to 20: median (min–max) | later turns that paid a handshake |',
        '|---|---|---|---|',
        row('a rimeTts subscription per reply (default `/ws`)', perTurn),
        row('a subscription per reply on one `rimeConnection()`, `/ws` (the next connection opened ahead)', warmWs),
        row('a subscription per reply on one `rimeConnection()`, `/ws3` (one connection, handed back)', warmWs3),
        row('the same, `/ws`, no listener between replies', warmWsAtOnce),
        row('the same, `/ws3`, no listener between replies', warmWs3AtOnce),
        row('one rimeTurns, `/ws` (a connection per turn, the next opened ahead)', turnsWs),
        row('one rimeTurns, `/ws3` (one connection)', turnsWs3),
        '',
        `A turn "paid a handshake" when its first audio took longer than half the handshake (${HANDSHAKE_MS / 2} ms). The`,
        `\`rimeConnection()\` rows make it ${CALL_SETUP_MS} ms before the first reply (as at a call's start), so their first`,
        'turn finds it open. With no listener between replies, on `/ws` the next reply comes before the connection opened',
        'for it (when the last reply took the warm one) is open, and waits for the rest of its handshake; on `/ws3` the',
        'connection is handed back and nothing waits.',
        '',
        `A barge-in ${BARGE_IN_AFTER_MS} ms into a long answer (four sentences), then the agent's next reply at once, against a`,
        'server that synthesizes at real-time pace (Rime is many times faster): from the barge-in to the next reply\'s',
        `first audio, ${options.quick ? 1 : 5} runs, interleaved.`,
        '',
        '| protocol | next reply\'s first audio after the barge-in: median (min–max) |',
        '|---|---|',
        `| \`/ws\` (a new connection, opened ahead) | ${format.spread(stats(bargeIns.ws), 'ms', 0)} |`,
        `| \`/ws3\` (the same connection: Rime first finishes the syntheses asked for, at most two) | ${format.spread(stats(bargeIns.ws3), 'ms', 0)} |`,
      ].join('\n'),
    };
  } finally {
    await server.close();
  }
}
