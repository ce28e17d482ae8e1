import { STATUS_CODES, type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { type Observable, Subject } from 'rxjs';
import { WebSocketServer } from 'ws';
import { RimeError } from '../errors';
import { parseFields, tableCodec } from '../fields';
import { decodeRimeQuery } from '../options';
import * as mp3 from './encode/mp3';
import { jsonWire } from '../protocol/json';
import { plainWire } from '../protocol/plain';
import { CLOSE } from '../protocol/rules';
import { type ConnectionSettings, RimeConnection } from './connection';
import type { ServerEvent } from './events';
import { Fault, FaultQueue } from './faults';
import { type RimeServerConfig, rimeServerFields } from './options';

export type { RimeServerConfig } from './options';
import { ROUTES, routesHint } from './routes';
import { createTestVoice } from './voices/test';
import type { Voice } from './voices/voice';

/** How long `close()` lets clients answer the close frame before their sockets are destroyed. */
const CLOSE_GRACE_MS = 500;

/** Settings of the local server; every field has a default. */
export const RimeServerOptions = tableCodec(rimeServerFields);
export type RimeServerOptions = t.TypeOf<typeof RimeServerOptions>;

export interface RimeServer {
  /** The `ws://host:port/ws` URL a client connects to (the plain protocol's path). */
  readonly url: string;
  /** The URL of each protocol the server speaks: `ws` (plain, `/ws`) and `ws3` (JSON, `/ws3`). */
  readonly urls: { readonly ws: string; readonly ws3: string };
  readonly port: number;
  /** Everything the server observes, as it happens (hot; subscribe before connecting). */
  readonly events: Observable<ServerEvent>;
  /** Applies `fault` to the next `connections` connections (after faults queued earlier). */
  inject(fault: Fault, connections?: number): void;
  /** Connections open now. */
  readonly connectionCount: number;
  /** Ends every connection (1001), frees the port and releases the voice. */
  close(): Promise<void>;
}

function decodeServerOptions(config: RimeServerConfig): RimeServerOptions {
  const { log: _log, ...input } = config;
  return parseFields(rimeServerFields, input, RimeServerOptions);
}

async function createVoice(name: RimeServerOptions['voice']): Promise<Voice> {
  if (name === 'test') return createTestVoice();
  // Loaded only on demand: espeak-ng is GPL and must stay out of every other import graph.
  const { createEspeakVoice } = require('./voices/espeak') as typeof import('./voices/espeak');
  return createEspeakVoice();
}

/** Writes a plain-text HTTP refusal on an upgrade socket, as Rime answers a refused upgrade. */
function refuse(socket: Duplex, status: number, body: string): void {
  const payload = Buffer.from(body, 'utf8');
  // Destroyed once written: a client that never closes its side must not keep the socket (or close()) waiting.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Rime's answer to the Authorization header, or undefined when the key is accepted. */
function authFailure(request: IncomingMessage, apiKeys: readonly string[] | undefined): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return 'Missing Authorization header';
  // `Bearer <key>` exactly, as a real service parses it: `BearerXYZ` or `Basic ...` carry no key of ours.
  const credentials = /^Bearer(?:\s+(\S*))?\s*$/i.exec(header);
  if (credentials === null) return 'invalid api key';
  const key = credentials[1] ?? '';
  if (key === '') return 'empty apikey';
  if (apiKeys !== undefined && !apiKeys.includes(key)) return 'invalid api key';
  return undefined;
}

/**
 * Starts a local server that speaks Rime's websocket protocols, plain (`/ws`) and JSON (`/ws3`), for tests, benchmarks and offline
 * use: Rime's upgrade checks and plain-text refusals, the three commands, the three segment modes, the 1000-character
 * limit, an idle timeout, a latency model and programmatic fault injection. Voices: `test` (deterministic,
 * decodable with `decodeTestSpeech`) and `espeak` (real speech).
 *
 * @example
 * const server = await createRimeServer({ port: 0 });
 * // connect to server.url with `Authorization: Bearer anything`
 * await server.close();
 */
export async function createRimeServer(config: RimeServerConfig = {}): Promise<RimeServer> {
  const options = decodeServerOptions(config);
  const log = config.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const voice = await createVoice(options.voice);
  const events = new Subject<ServerEvent>();
  const faults = new FaultQueue();
  options.faults.forEach((fault) => faults.add(fault, 1));
  const connections = new Set<RimeConnection>();
  const settings: ConnectionSettings = options;
  let nextId = 1;
  if (options.apiKeys === undefined) log('rime-rx server: no apiKeys configured, accepting any non-empty API key');

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes });
  const http = createServer({ connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs) }, (_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Upgrade Required: connect with a websocket to ${routesHint()}`);
  });
  // Node checks these deadlines every `connectionsCheckingInterval` (30 s unless set), so a slow upgrade would live
  // for up to 40 s where 10 s is meant.
  http.headersTimeout = options.headersTimeoutMs;
  http.requestTimeout = options.headersTimeoutMs;

  /** Every socket that reached the upgrade handler and is still open: close() destroys what remains. */
  const upgradeSockets = new Set<Duplex>();

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    upgradeSockets.add(socket);
    socket.once('close', () => upgradeSockets.delete(socket));
    const answer = (status: number, body: string) => {
      events.next({ type: 'refused', status, body });
      refuse(socket, status, body);
    };
    try {
      accept(request, socket, head, answer);
    } catch {
      answer(400, 'Bad Request'); // whatever a hostile request line does, it never reaches the process
    }
  });

  function accept(request: IncomingMessage, socket: Duplex, head: Buffer, answer: (status: number, body: string) => void): void {
    const url = new URL(request.url ?? '/', 'ws://localhost');
    const refusal = faults.takeRefusal();
    if (refusal !== undefined) return answer(refusal.status, refusal.body);
    const wire = ROUTES.get(url.pathname);
    if (wire === undefined) return answer(404, 'Not Found');
    const unauthorized = authFailure(request, options.apiKeys);
    if (unauthorized !== undefined) return answer(401, unauthorized);
    const query = decodeRimeQuery(url.searchParams);
    if (E.isLeft(query)) return answer(400, (query.left.issues ?? [query.left.message]).join('; '));
    if (query.right.audioFormat === 'mp3' && !mp3.mp3Available()) {
      // Not Rime's answer (Rime always has mp3) but this server's: a piece of it is not installed.
      log(`rime-rx server: refused an mp3 connection: ${mp3.MP3_MISSING}`);
      return answer(501, `${mp3.MP3_MISSING} (or ask for audioFormat pcm or mulaw)`);
    }
    if (connections.size >= options.maxConnections) return answer(429, 'Currently at websocket limit');
    const fault = faults.takeConnectionFault();
    const upgrade = () => wss.handleUpgrade(request, socket, head, (websocket) => {
      const id = nextId++;
      const connection = new RimeConnection({
        id,
        socket: websocket,
        wire,
        options: query.right,
        voice,
        settings,
        fault,
        emit: (event) => events.next(event),
      });
      connections.add(connection);
      websocket.on('close', () => connections.delete(connection));
      events.next({ type: 'open', connection: id, options: query.right });
    });
    if (options.handshakeDelayMs === 0) return upgrade();
    const delayed = setTimeout(() => (socket.destroyed ? undefined : upgrade()), options.handshakeDelayMs);
    socket.once('close', () => clearTimeout(delayed));
  }

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => resolve());
    });
  } catch (error) {
    await voice.close(); // an espeak worker would otherwise keep the process alive
    events.complete();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `ws://${host}:${port}${plainWire.path}`,
    urls: { ws: `ws://${host}:${port}${plainWire.path}`, ws3: `ws://${host}:${port}${jsonWire.path}` },
    port,
    events: events.asObservable(),
    get connectionCount() {
      return connections.size;
    },
    inject(fault, count = 1) {
      if (!Fault.is(fault)) throw RimeError.invalidOptions([`not a valid fault: ${JSON.stringify(fault)}`]);
      faults.add(fault, count);
    },
    async close() {
      const closed = [...wss.clients].map((client) => new Promise((resolve) => client.once('close', resolve)));
      for (const connection of connections) connection.close(CLOSE.goingAway, 'server shutting down');
      const grace = new AbortController();
      await Promise.race([Promise.all(closed), sleep(CLOSE_GRACE_MS, undefined, { signal: grace.signal }).catch(() => {})]);
      grace.abort();
      for (const client of wss.clients) client.terminate();
      for (const socket of upgradeSockets) socket.destroy();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      wss.close();
      await voice.close();
      events.complete();
    },
  };
}
