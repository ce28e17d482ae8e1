import { WebSocket } from 'ws';

export type Query = Record<string, string | number | boolean>;

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A plain `ws` client session against a Rime-compatible server, recording everything it receives. */
export interface Session {
  readonly socket: WebSocket;
  /** Binary frames received, in order. */
  readonly chunks: Buffer[];
  /** Milliseconds since the session was opened, per chunk. */
  readonly arrivals: number[];
  readonly closed: Promise<Closed>;
  send(text: string): void;
  audio(): Buffer;
}

export function urlWith(base: string, query: Query): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
  return url.href;
}

/** Opens a session; rejects if the upgrade is refused. */
export function open(base: string, query: Query = { speaker: 'cove', audioFormat: 'pcm' }, key = 'test-key'): Promise<Session> {
  const started = Date.now();
  const socket = new WebSocket(urlWith(base, query), { headers: { Authorization: `Bearer ${key}` } });
  const chunks: Buffer[] = [];
  const arrivals: number[] = [];
  socket.on('message', (data: Buffer) => {
    chunks.push(data);
    arrivals.push(Date.now() - started);
  });
  const closed = new Promise<Closed>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        socket,
        chunks,
        arrivals,
        closed,
        send: (text) => socket.send(text),
        audio: () => Buffer.concat(chunks),
      }),
    );
    socket.once('error', reject);
  });
}

export interface Refusal {
  readonly status: number;
  readonly body: string;
}

/** Attempts an upgrade that should be refused; resolves with the status and plain-text body. */
export function refusal(base: string, query: Query, headers: Record<string, string> = { Authorization: 'Bearer test-key' }): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(urlWith(base, query), { headers });
    socket.on('error', () => {});
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
  });
}

/** Sends `frames`, then `<EOS>`, and waits for the server to close. */
export async function speak(session: Session, frames: readonly string[]): Promise<Closed> {
  for (const frame of frames) session.send(frame);
  session.send('<EOS>');
  return session.closed;
}

/** A message of Rime's JSON protocol, as a client receives it (decoded only as JSON). */
export interface JsonMessage {
  readonly type: string;
  readonly data?: string;
  readonly contextId?: string | null;
  readonly message?: string;
  readonly word_timestamps?: { readonly words: string[]; readonly start: number[]; readonly end: number[] };
}

/** A session on the JSON protocol (`/ws3`): every message it received, and the audio of its chunks. */
export interface JsonSession {
  readonly socket: WebSocket;
  readonly messages: JsonMessage[];
  readonly closed: Promise<Closed>;
  send(message: object | string): void;
  /** The audio of the chunks received, in order (of `contextId`'s only, when given). */
  audio(contextId?: string | null): Buffer;
  /** Resolves once a message of `type` has arrived `count` times in all. */
  received(type: string, count?: number): Promise<void>;
}

export function openJson(base: string, query: Query = { speaker: 'cove', audioFormat: 'pcm' }): Promise<JsonSession> {
  const socket = new WebSocket(urlWith(base.replace(/\/ws$/, '/ws3'), query), { headers: { Authorization: 'Bearer test-key' } });
  const messages: JsonMessage[] = [];
  const waiting: { type: string; count: number; resolve: () => void }[] = [];
  socket.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as JsonMessage);
    for (const wait of [...waiting]) {
      if (messages.filter((message) => message.type === wait.type).length >= wait.count) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
    }
  });
  const closed = new Promise<Closed>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        socket,
        messages,
        closed,
        send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
        audio: (contextId) =>
          Buffer.concat(
            messages
              .filter((message) => message.type === 'chunk' && (contextId === undefined || message.contextId === contextId))
              .map((message) => Buffer.from(message.data ?? '', 'base64')),
          ),
        received: (type, count = 1) =>
          messages.filter((message) => message.type === type).length >= count
            ? Promise.resolve()
            : new Promise((done) => waiting.push({ type, count, resolve: done })),
      }),
    );
    socket.once('error', reject);
  });
}
