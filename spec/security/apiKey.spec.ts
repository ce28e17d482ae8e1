import { inspect } from 'node:util';
import * as E from 'fp-ts/Either';
import { NEVER, from, lastValueFrom, of, toArray } from 'rxjs';
import { decodeRimeOptions } from '../../lib/options';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { jsonWire } from '../../lib/protocol/json';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import type { RimeEvent } from '../../lib/tts/events';
import { type RimeTtsConfig, rimeTts } from '../../lib/tts/rimeTts';
import { runCli } from '../support/cli';

/** The key pushed through every path; it must surface nowhere. */
const SENTINEL = 'sk-sentinel-4f9c2a7e51d8';

/** Everything a failure leaves behind, as text: messages, inspections, JSON, events, logs, URLs. */
const traces: string[] = [];
const record = (...things: unknown[]) => {
  for (const thing of things) {
    traces.push(typeof thing === 'string' ? thing : `${inspect(thing, { depth: Infinity, showHidden: true })}\n${safeJson(thing)}`);
  }
};
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

async function speakFailing(config: Partial<RimeTtsConfig>, text = ['Hello there.']): Promise<unknown> {
  const events: RimeEvent[] = [];
  const error = await lastValueFrom(
    from(text).pipe(rimeTts({ speaker: 'cove', apiKey: SENTINEL, retry: 0, prewarm: false, events: { next: (event) => events.push(event) }, ...config }), toArray()),
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  record(error, events);
  return error;
}

describe('the API key never surfaces', () => {
  let server: RimeServer;
  const serverLog: string[] = [];
  beforeAll(async () => {
    server = await createRimeServer({ log: (line) => serverLog.push(line), apiKeys: [SENTINEL] });
    server.events.subscribe((event) => record(event));
  });
  afterAll(async () => {
    await server.close();
    record(...serverLog);
    const leaks = traces.filter((trace) => trace.includes(SENTINEL));
    expect(leaks).toEqual([]);
    expect(traces.length).toBeGreaterThan(20);
  });

  it('bad options', () => {
    for (const input of [{ speaker: 'cove', apiKey: `${SENTINEL} ` }, { speaker: 'nobody', apiKey: SENTINEL, samplingRate: 1 }, { apikey: SENTINEL }, { speaker: SENTINEL.slice(0, 3), apiKey: SENTINEL }]) {
      const result = decodeRimeOptions(input);
      expect(E.isLeft(result)).toBe(true);
      record(result);
    }
  });

  it('401 (wrong key), with the sentinel as the wrong key too', async () => {
    expect(await speakFailing({ url: server.url, apiKey: `${SENTINEL}-wrong` })).toMatchObject({ kind: 'unauthorized' });
  });

  it('429, 503 and a 1011 close', async () => {
    server.inject({ kind: 'refuse', status: 429, body: 'Currently at websocket limit' });
    expect(await speakFailing({ url: server.url })).toMatchObject({ kind: 'rate-limited' });
    server.inject({ kind: 'refuse', status: 503, body: 'unavailable' });
    expect(await speakFailing({ url: server.url })).toMatchObject({ kind: 'server' });
    server.inject({ kind: 'close', code: 1011, reason: '400: text is too long' });
    expect(await speakFailing({ url: server.url })).toMatchObject({ kind: 'invalid-options', closeCode: 1011 });
  });

  it('on /ws3: 401, a 1011 close, and a server that echoes the key in an error message or a malformed frame', async () => {
    expect(await speakFailing({ url: server.urls.ws3, protocol: 'ws3', apiKey: `${SENTINEL}-wrong` })).toMatchObject({ kind: 'unauthorized' });
    server.inject({ kind: 'close', code: 1011, reason: '400: text is too long' });
    expect(await speakFailing({ url: server.urls.ws3, protocol: 'ws3' })).toMatchObject({ kind: 'invalid-options', closeCode: 1011 });
    for (const echo of [`{"type":"error","message":"Authorization: Bearer ${SENTINEL}"}`, `{"type":"chunk","data":"${SENTINEL}!!"}`, `not json ${SENTINEL}`]) {
      const fake = new FakeTransport((connection) => connection.open((message) => message.type === 'text' && connection.frame(echo)), jsonWire);
      const error = await speakFailing({ protocol: 'ws3', transport: fake.transport });
      expect(error).toMatchObject({ kind: 'protocol' });
      expect(String((error as Error).message)).toContain('<redacted>');
    }
  });

  it('timeouts: the handshake and the close after <EOS>', async () => {
    const silent = new FakeTransport(() => {});
    const handshake = await lastValueFrom(
      of('Hi.').pipe(rimeTts({ speaker: 'cove', apiKey: SENTINEL, retry: 0, url: 'ws://127.0.0.1:9/ws', handshakeTimeoutMs: 50 })),
    ).catch((caught: unknown) => caught);
    record(handshake);
    server.inject({ kind: 'stall' });
    expect(await speakFailing({ url: server.url, eosTimeoutMs: 50 })).toMatchObject({ kind: 'timeout' });
    of('Hi.').pipe(rimeTts({ speaker: 'cove', apiKey: SENTINEL, transport: silent.transport })).subscribe().unsubscribe();
    record(silent.connections.map((connection) => connection.request.url.href));
  });

  it('a source error, a control error and unsubscription', async () => {
    record(await speakFailing({ url: server.url, flush: from(Promise.reject(new Error('flush failed'))) }, []));
    const subscription = NEVER.pipe(rimeTts({ speaker: 'cove', apiKey: SENTINEL, url: server.url })).subscribe();
    subscription.unsubscribe();
  });

  it('CLI errors and output', async () => {
    for (const args of [
      ['x', '-o', '/tmp/rime-rx-sentinel.mp3', '--url', server.url.replace('/ws', '/nope')],
      ['x', '-o', '/tmp/rime-rx-sentinel.mp3', '--url', 'ws://127.0.0.1:9/ws', '--retries', '0'],
      ['x', '-o', '/tmp/rime-rx-sentinel.mp3', '--url', server.url, '--speaker', 'nobody'],
    ]) {
      const run = runCli(['speak', ...args], { env: { RIME_API_KEY: `${SENTINEL}-bad` } });
      await run.code;
      record(run.output().out, run.output().err);
    }
    const good = runCli(['speak', 'Fine.', '-o', '/tmp/rime-rx-sentinel.mp3', '--url', server.url], { env: { RIME_API_KEY: SENTINEL } });
    await expect(good.code).resolves.toBe(0);
    record(good.output().out, good.output().err);
  });
});
