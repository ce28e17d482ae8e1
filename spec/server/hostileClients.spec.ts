import fc from 'fast-check';
import { type Socket, connect } from 'node:net';
import { filter, firstValueFrom } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { type Session, open, refusal, speak } from '../support/wsClient';

const pcm = { speaker: 'cove', audioFormat: 'pcm' } as const;

/** One hostile frame: random text, random bytes sent as binary or as (invalid) text, huge frames, command storms. */
const hostileFrame = fc.oneof(
  fc.string({ maxLength: 50 }).map((text) => ({ data: text as string | Buffer, binary: false })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ data: Buffer.from(bytes), binary: false })),
  fc.constantFrom('<EOS>', '<FLUSH>', '<CLEAR>', ' <FLUSH> ').map((command) => ({ data: command as string | Buffer, binary: false })),
  fc.constant({ data: 'x'.repeat(80 * 1024) as string | Buffer, binary: false }),
  fc.constant({ data: 'word '.repeat(250) as string | Buffer, binary: false }),
);

describe('the server under hostile clients', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, realTimeFactor: 0.02 });
  });
  afterAll(() => server.close());

  it('1,000 random frames from several clients: the server stays up and a good client gets all its audio', async () => {
    const frames = fc.sample(hostileFrame, { numRuns: 1000, seed: 2026 });
    const good = await open(server.url, pcm);
    good.send('A well behaved client, ');
    let hostile: Session[] = await Promise.all(Array.from({ length: 8 }, () => open(server.url, { ...pcm, segment: 'immediate' })));
    const closes: Promise<{ code: number; reason: string }>[] = hostile.map((session) => session.closed);
    for (const [index, frame] of frames.entries()) {
      const session = hostile[index % hostile.length];
      if (session === undefined) continue;
      if (session.socket.readyState !== session.socket.OPEN) {
        const replacement = await open(server.url, { ...pcm, segment: 'immediate' });
        hostile = hostile.map((old) => (old === session ? replacement : old));
        closes.push(replacement.closed);
        replacement.socket.send(frame.data, { binary: frame.binary });
      } else {
        session.socket.send(frame.data, { binary: frame.binary });
      }
    }
    const closed = await speak(good, ['speaking to the end.']);
    expect(closed).toEqual({ code: 1000, reason: '' });
    expect(decodeTestSpeech(good.audio()).text).toBe('A well behaved client, speaking to the end.');
    hostile.forEach((session) => session.socket.terminate());
    const reasons = await Promise.all(closes);
    const codes = new Set(reasons.map((reason) => reason.code));
    expect([...codes].every((code) => [1000, 1003, 1006, 1007, 1009, 1011].includes(code))).toBe(true);
    expect(reasons.some((reason) => reason.reason === 'binary frames are not supported: send text')).toBe(true);
  }, 30_000);
});

describe('hostile upgrade requests', () => {
  const handshake = (target: string) =>
    `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer k\r\n\r\n';

  /** Sends a raw upgrade request; resolves with the status line, keeping the client's side open if asked. */
  function rawUpgrade(port: number, target: string, allowHalfOpen = false): Promise<{ status: string; socket: Socket }> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen }, () => socket.write(handshake(target)));
      socket.on('error', () => {});
      socket.once('data', (data: Buffer) => resolve({ status: data.toString().split('\r\n')[0] ?? '', socket }));
    });
  }

  it('a request line the URL parser rejects gets 400, and the server keeps serving', async () => {
    const server = await createRimeServer({ log: () => {} });
    try {
      for (const target of ['//[::1', 'http://[', 'http://a b/ws']) {
        const { status, socket } = await rawUpgrade(server.port, target);
        expect(status).toMatch(/^HTTP\/1\.1 (400|404)/);
        socket.destroy();
      }
      const session = await open(server.url, pcm);
      await expect(speak(session, ['Still here.'])).resolves.toEqual({ code: 1000, reason: '' });
    } finally {
      await server.close();
    }
  });

  it('a client that sends far more text than it reads audio for is closed 1008 instead of queueing without end', async () => {
    const server = await createRimeServer({ log: () => {}, maxWaitingCharacters: 100_000 });
    try {
      const flood = await open(server.url, { ...pcm, segment: 'immediate' });
      flood.socket.pause(); // read nothing: the server's sends back up
      for (let index = 0; index < 3000; index++) flood.send('Ten words of text, again and again and again. ');
      await new Promise((resolve) => setTimeout(resolve, 300));
      flood.socket.resume();
      await expect(flood.closed).resolves.toEqual({ code: 1008, reason: 'too much text waiting for synthesis' });
    } finally {
      await server.close();
    }
  });

  it('slowloris: handshakes that never finish do not stop a well-behaved client, nor close()', async () => {
    const server = await createRimeServer({ log: () => {} });
    const crawlers: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (let index = 0; index < 30; index++) {
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write('GET /ws?speaker=cove HTTP/1.1\r\nHost: x\r\n');
        timers.push(setInterval(() => socket.write(`X-Slow-${index}: 1\r\n`), 50));
        crawlers.push(socket);
      }
      const session = await open(server.url, pcm);
      await expect(speak(session, ['Served despite the crawlers.'])).resolves.toEqual({ code: 1000, reason: '' });
      expect(decodeTestSpeech(session.audio()).text).toBe('Served despite the crawlers.');
    } finally {
      timers.forEach(clearInterval);
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(1000);
      crawlers.forEach((socket) => socket.destroy());
    }
  });

  it('slowloris: an upgrade whose headers take longer than headersTimeoutMs is dropped within a second of it', async () => {
    const server = await createRimeServer({ log: () => {}, headersTimeoutMs: 500 });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 50);
    try {
      const started = Date.now();
      socket.write('GET /ws?speaker=cove HTTP/1.1\r\nHost: x\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
      expect(Date.now() - started).toBeLessThan(1600);
    } finally {
      clearInterval(trickle);
      socket.destroy();
      await server.close();
    }
  });

  it('a client that stops reading is dropped after idleTimeoutMs without progress, and frees its slot', async () => {
    const server = await createRimeServer({ log: () => {}, idleTimeoutMs: 400 });
    try {
      const dropped = firstValueFrom(server.events.pipe(filter((event) => event.type === 'close')));
      const session = await open(server.url, { ...pcm, segment: 'immediate' });
      (session.socket as unknown as { _socket: Socket })._socket.pause(); // reads nothing more
      const sentence = `${'word '.repeat(190)}end.`;
      for (let index = 0; index < 10; index++) session.send(sentence);
      await expect(dropped).resolves.toMatchObject({ by: 'server' });
      expect(server.connectionCount).toBe(0);
      session.socket.terminate();
    } finally {
      await server.close();
    }
  });

  it('a client that reads slowly but steadily is waited for, however large its backlog: it gets every byte', async () => {
    const server = await createRimeServer({ log: () => {}, idleTimeoutMs: 300 });
    try {
      const closes: { readonly reason: string }[] = [];
      let sent = 0;
      const watching = server.events.subscribe((event) => {
        if (event.type === 'close') closes.push(event);
        if (event.type === 'audio') sent += event.bytes;
      });
      const session = await open(server.url, { ...pcm, segment: 'immediate' });
      const tcp = (session.socket as unknown as { _socket: Socket })._socket;
      tcp.pause();
      const sip = setInterval(() => {
        tcp.resume();
        setTimeout(() => tcp.pause(), 5);
      }, 200);
      for (let index = 0; index < 10; index++) session.send(`${'word '.repeat(190)}end.`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      clearInterval(sip);
      // While the reader takes audio, the server never cuts it off. Once nothing waits in the server's own buffer
      // (the rest is in the kernel's, on its way) it may close it as idle: the close then comes after that audio.
      expect(closes.filter((close) => close.reason !== 'idle timeout')).toEqual([]);
      tcp.resume();
      await session.closed;
      expect(session.audio().length).toBe(sent);
      watching.unsubscribe();
    } finally {
      await server.close();
    }
  });

  it("whitespace-only frames are not activity: ' ' every 100 ms does not keep an idle connection", async () => {
    const server = await createRimeServer({ log: () => {}, idleTimeoutMs: 300 });
    try {
      const session = await open(server.url, pcm);
      const keepAlive = setInterval(() => session.send(' '), 100);
      const closed = await session.closed;
      clearInterval(keepAlive);
      expect(closed).toEqual({ code: 1000, reason: 'idle timeout' });
    } finally {
      await server.close();
    }
  });

  it('a huge pause in mp3 and a crawling speedAlpha neither freeze the server for another client nor grow it without bound', async () => {
    const server = await createRimeServer({ log: () => {} });
    try {
      const rssBefore = process.memoryUsage().rss;
      const pause = await open(server.url, { speaker: 'cove', audioFormat: 'mp3', pauseBetweenBrackets: true, segment: 'immediate' });
      pause.send('<600000> and <3000000> then.');
      const crawl = await open(server.url, { ...pcm, speedAlpha: 0.001, segment: 'immediate' });
      crawl.send('Slowly, ever so slowly.');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const good = await open(server.url, pcm);
      const sent = Date.now();
      good.send('Hi.');
      good.send('<FLUSH>');
      while (good.chunks.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(Date.now() - sent).toBeLessThan(1000); // 7 s when the mp3 of a 600 s pause was encoded in one go
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 2 ** 20);
      [pause, crawl, good].forEach((session) => session.socket.terminate());
    } finally {
      await server.close();
    }
    // Encoding ten seconds of mp3 silence twice takes seconds under jest's module sandbox on a loaded machine.
  }, 30_000);

  it('a connection flood past maxConnections gets 429 for the excess; the server serves again once it ebbs', async () => {
    const server = await createRimeServer({ log: () => {}, maxConnections: 20 });
    try {
      const attempts = await Promise.allSettled(Array.from({ length: 50 }, () => open(server.url, pcm)));
      const admitted = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
      expect(admitted).toHaveLength(20);
      await expect(refusal(server.url, pcm)).resolves.toEqual({ status: 429, body: 'Currently at websocket limit' });
      admitted.forEach((session) => session.socket.close());
      await Promise.all(admitted.map((session) => session.closed));
      for (let waited = 0; waited < 2000 && server.connectionCount > 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      const session = await open(server.url, pcm);
      await expect(speak(session, ['Back to normal.'])).resolves.toEqual({ code: 1000, reason: '' });
    } finally {
      await server.close();
    }
  });

  it('close() does not wait for a refused client that keeps its side open', async () => {
    const server = await createRimeServer({ log: () => {} });
    const { status, socket } = await rawUpgrade(server.port, '/nope', true);
    expect(status).toBe('HTTP/1.1 404 Not Found');
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    socket.destroy();
  });

  it('a refused stranger never uses up a fault meant for the next accepted connection', async () => {
    const server = await createRimeServer({ log: () => {}, apiKeys: ['right'] });
    try {
      server.inject({ kind: 'close', code: 1013, reason: 'try again later' });
      const stranger = await rawUpgrade(server.port, '/ws?speaker=cove');
      expect(stranger.status).toBe('HTTP/1.1 401 Unauthorized');
      stranger.socket.destroy();
      const session = await open(server.url, pcm, 'right');
      await expect(session.closed).resolves.toEqual({ code: 1013, reason: 'try again later' });
    } finally {
      await server.close();
    }
  });
});
