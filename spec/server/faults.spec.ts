import { filter, firstValueFrom } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { FaultQueue } from '../../lib/server/faults';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { open, refusal, speak } from '../support/wsClient';

const pcm = { speaker: 'cove', audioFormat: 'pcm' } as const;
const sentence = 'A sentence long enough to make several kilobytes of audio.';
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault injection', () => {
  let server: RimeServer;
  beforeEach(async () => {
    server = await createRimeServer({ log: () => {}, realTimeFactor: 0.05 });
  });
  afterEach(() => server.close());

  it('refuses the next upgrade with a status and body, then serves normally', async () => {
    server.inject({ kind: 'refuse', status: 503, body: 'upstream unavailable' });
    await expect(refusal(server.url, pcm)).resolves.toEqual({ status: 503, body: 'upstream unavailable' });
    const session = await open(server.url, pcm);
    await expect(speak(session, ['Fine.'])).resolves.toEqual({ code: 1000, reason: '' });
  });

  it('applies a fault to the next N connections only', async () => {
    server.inject({ kind: 'refuse', status: 429, body: 'Currently at websocket limit' }, 2);
    await expect(refusal(server.url, pcm)).resolves.toMatchObject({ status: 429 });
    await expect(refusal(server.url, pcm)).resolves.toMatchObject({ status: 429 });
    (await open(server.url, pcm)).socket.close();
  });

  it('drops the socket without a close frame after exactly N audio bytes', async () => {
    server.inject({ kind: 'drop', afterBytes: 5001 });
    const session = await open(server.url, pcm);
    const fault = firstValueFrom(server.events.pipe(filter((event) => event.type === 'fault')));
    await expect(speak(session, [sentence])).resolves.toMatchObject({ code: 1006 });
    expect(session.audio().length).toBe(5001);
    await expect(fault).resolves.toMatchObject({ fault: { kind: 'drop', afterBytes: 5001 } });
  });

  it('drops the socket after N milliseconds', async () => {
    // Timed on the server's side, from the connection's start to the fault: the client's own clock starts whenever
    // its 'open' is delivered, which a loaded machine delays.
    const times: Record<string, number> = {};
    const watching = server.events.subscribe((event) => {
      if (event.type === 'open' || event.type === 'fault') times[event.type] = performance.now();
    });
    server.inject({ kind: 'drop', afterMs: 30 });
    const session = await open(server.url, pcm);
    await expect(session.closed).resolves.toMatchObject({ code: 1006 });
    watching.unsubscribe();
    expect((times['fault'] ?? 0) - (times['open'] ?? Infinity)).toBeGreaterThanOrEqual(25);
  });

  it('closes with a given code and reason after N bytes', async () => {
    server.inject({ kind: 'close', code: 1011, reason: 'internal error', afterBytes: 100 });
    const session = await open(server.url, pcm);
    await expect(speak(session, [sentence])).resolves.toEqual({ code: 1011, reason: 'internal error' });
    expect(session.audio().length).toBe(100);
  });

  it('closes at once when no trigger is given', async () => {
    server.inject({ kind: 'close', code: 1013, reason: 'try again later' });
    const session = await open(server.url, pcm);
    await expect(session.closed).resolves.toEqual({ code: 1013, reason: 'try again later' });
  });

  it('stalls: stops sending after N bytes and keeps the socket open, even past <EOS>', async () => {
    server.inject({ kind: 'stall', afterBytes: 2000 });
    const session = await open(server.url, pcm);
    session.send(sentence);
    session.send('<EOS>');
    await delay(300);
    expect(session.audio().length).toBe(2000);
    expect(session.socket.readyState).toBe(session.socket.OPEN);
    session.socket.close();
    await session.closed;
  });

  it('slows the link to a given number of bytes per second', async () => {
    server.inject({ kind: 'slow', bytesPerSecond: 40_000 });
    const session = await open(server.url, pcm);
    const started = Date.now();
    await speak(session, ['Twelve chars']);
    const bytes = session.audio().length;
    expect(bytes).toBeGreaterThan(30_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual((bytes / 40_000) * 1000 * 0.9);
    expect(decodeTestSpeech(session.audio()).text).toBe('Twelve chars');
  });

  it('takes faults from the options, one connection each', async () => {
    const faulty = await createRimeServer({ log: () => {}, faults: [{ kind: 'refuse', status: 502, body: 'bad gateway' }] });
    try {
      await expect(refusal(faulty.url, pcm)).resolves.toEqual({ status: 502, body: 'bad gateway' });
      (await open(faulty.url, pcm)).socket.close();
    } finally {
      await faulty.close();
    }
  });

  it('rejects a malformed fault', () => {
    expect(() => server.inject({ kind: 'close', code: 1006, reason: '' })).toThrow(/not a valid fault/);
  });
});

describe('FaultQueue', () => {
  it('hands out faults first in first out, each for its count', () => {
    const queue = new FaultQueue();
    queue.add({ kind: 'drop' }, 2);
    queue.add({ kind: 'stall' }, 1);
    queue.add({ kind: 'slow', bytesPerSecond: 1 }, 0);
    expect(queue.takeRefusal()).toBeUndefined();
    expect([queue.takeConnectionFault(), queue.takeConnectionFault(), queue.takeConnectionFault(), queue.takeConnectionFault()].map((fault) => fault?.kind)).toEqual([
      'drop',
      'drop',
      'stall',
      undefined,
    ]);
  });

  it('hands a refusal only to an upgrade, and a connection fault only to an accepted connection', () => {
    const queue = new FaultQueue();
    queue.add({ kind: 'refuse', status: 503, body: '' }, 1);
    queue.add({ kind: 'drop' }, 1);
    expect(queue.takeConnectionFault()).toBeUndefined();
    expect(queue.takeRefusal()?.status).toBe(503);
    expect(queue.takeRefusal()).toBeUndefined();
    expect(queue.takeConnectionFault()?.kind).toBe('drop');
  });
});
