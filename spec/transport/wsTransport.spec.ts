import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { WebSocketServer } from 'ws';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { wsTransport } from '../../lib/transport/wsTransport';
import type { TransportEvent } from '../../lib/transport/transport';

const SECRET = 'sk-sentinel-transport';
const query = '?speaker=cove&audioFormat=pcm';

describe('wsTransport', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, apiKeys: [SECRET] });
  });
  afterAll(() => server.close());

  const request = (apiKey = SECRET, url = `${server.url}${query}`) => ({ url: new URL(url), apiKey, handshakeTimeoutMs: 2000 });

  it('opens with the key in the Authorization header, sends text, receives audio as Uint8Array, then the close', async () => {
    const events = wsTransport(request());
    const collected: TransportEvent[] = [];
    await new Promise<void>((resolve, reject) =>
      events.subscribe({
        next: (event) => {
          collected.push(event);
          if (event.type === 'open') {
            event.send('Hi.');
            event.send('<EOS>');
          }
        },
        complete: resolve,
        error: reject,
      }),
    );
    expect(collected[0]?.type).toBe('open');
    const audio = collected.filter((event) => event.type === 'frame');
    expect(audio.length).toBeGreaterThan(0);
    expect(audio.every((event) => event.type === 'frame' && event.frame.constructor === Uint8Array)).toBe(true);
    expect(collected.at(-1)).toEqual({ type: 'close', code: 1000, reason: '' });
  });

  it('a refused upgrade errors with the status and Rime\'s body, and nothing of the key', async () => {
    const error = await lastValueFrom(wsTransport(request('sk-sentinel-wrong'))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, reason: 'invalid api key', retryable: false });
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain('sk-sentinel');
  });

  it('a refusal body or close reason that echoes the key is redacted', async () => {
    const echo = createHttpServer();
    echo.on('upgrade', (request, socket) => {
      const body = `bad request: ${request.headers.authorization ?? ''}`;
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const { port } = echo.address() as { port: number };
    const error = await lastValueFrom(wsTransport(request(SECRET, `ws://127.0.0.1:${port}/ws`))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, reason: 'bad request: Bearer <redacted>' });
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain('sk-sentinel');
    echo.closeAllConnections();
    await new Promise((resolve) => echo.close(resolve));
  });

  it.each([
    ['never ends', (socket: import('node:stream').Duplex) => socket.write('invalid api key')],
    ['trickles forever', (socket: import('node:stream').Duplex) => {
      const trickle = setInterval(() => socket.write('x'), 20);
      socket.on('close', () => clearInterval(trickle));
    }],
  ])('a refusal whose body %s: the status decides, within the handshake deadline', async (_, answer) => {
    const endless = createHttpServer();
    const sockets: import('node:stream').Duplex[] = [];
    endless.on('upgrade', (_request, socket) => {
      sockets.push(socket.on('error', () => {}));
      socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n');
      answer(socket);
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const { port } = endless.address() as { port: number };
    const started = Date.now();
    const error = await lastValueFrom(wsTransport({ ...request(SECRET, `ws://127.0.0.1:${port}/ws`), handshakeTimeoutMs: 300 })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, retryable: false });
    expect(Date.now() - started).toBeLessThan(1500);
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => endless.close(resolve));
  });

  it('a close reason cut at the 123-byte limit in the middle of an echoed key has that piece redacted', async () => {
    const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    echo.on('connection', (socket) => socket.close(1011, `${'x'.repeat(110)}${SECRET}`.slice(0, 123)));
    await new Promise((resolve) => echo.once('listening', resolve));
    const { port } = echo.address() as { port: number };
    const events = await lastValueFrom(wsTransport(request(SECRET, `ws://127.0.0.1:${port}/ws`)).pipe(toArray()));
    expect(events.at(-1)).toEqual({ type: 'close', code: 1011, reason: `${'x'.repeat(110)}<redacted>` });
    await new Promise((resolve) => echo.close(resolve));
  });

  it('offers no permessage-deflate: audio does not compress', async () => {
    const probe = createHttpServer();
    const offered = new Promise<string | undefined>((resolve) =>
      probe.on('upgrade', (upgrade, socket) => {
        resolve(upgrade.headers['sec-websocket-extensions']);
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }),
    );
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await lastValueFrom(wsTransport(request(SECRET, `ws://127.0.0.1:${port}/ws`))).catch(() => undefined);
    await expect(offered).resolves.toBeUndefined();
    probe.closeAllConnections();
    await new Promise((resolve) => probe.close(resolve));
  });

  it('a connection that cannot be made errors as a retryable connection failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const error = await lastValueFrom(wsTransport(request(SECRET, `ws://127.0.0.1:${port}/ws`))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'connection', retryable: true, message: `could not connect to ws://127.0.0.1:${port}/ws: ECONNREFUSED` });
  });

  it('a server that never answers the upgrade: a timeout error', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket.on('error', () => {}));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    const error = await lastValueFrom(wsTransport({ ...request(SECRET, `ws://127.0.0.1:${port}/ws`), handshakeTimeoutMs: 100 })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  it('unsubscribing closes the connection with 1000 at once', async () => {
    const close = firstValueFrom(server.events.pipe(filter((event) => event.type === 'close')));
    const subscription = wsTransport(request()).subscribe((event) => {
      if (event.type === 'open') subscription.unsubscribe();
    });
    await expect(close).resolves.toMatchObject({ code: 1000, by: 'client' });
  });

  it('unsubscribing while paused still closes with 1000 at once (not after ws\'s 30 s close timeout)', async () => {
    const close = firstValueFrom(server.events.pipe(filter((event) => event.type === 'close')));
    const started = Date.now();
    await new Promise<void>((resolve) => {
      let paused = false;
      let pause: (() => void) | undefined;
      const subscription = wsTransport(request()).subscribe((event) => {
        if (event.type === 'open') {
          pause = event.pause;
          event.send('A sentence long enough to take a while. And another one after it.');
          event.send('<FLUSH>');
        }
        if (event.type === 'frame' && !paused) {
          paused = true;
          pause?.();
          setTimeout(() => {
            subscription.unsubscribe();
            resolve();
          }, 100);
        }
      });
    });
    await expect(close).resolves.toMatchObject({ code: 1000, by: 'client' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('unsubscribing before the upgrade completes leaves no error behind', async () => {
    const notified: unknown[] = [];
    const subscription = wsTransport(request()).subscribe({ next: (event) => notified.push(event), error: (error) => notified.push(error) });
    subscription.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(notified).toEqual([]);
  });
});
