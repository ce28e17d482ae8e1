import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { numberFromText } from '../codecs';
import { RimeError } from '../errors';
import { type RimeServerConfig, createRimeServer } from '../server/createRimeServer';
import { type CliIo, messageOf, parseErrorMessage } from './io';

export const serveUsage = `Usage: rime-rx serve [options]

Runs the local Rime-compatible websocket server (Rime's plain /ws protocol) until SIGINT or SIGTERM.
Prints the ws:// URL to connect to on stdout.

Options:
  --port N                port to listen on (default 8787; 0 picks a free one)
  --host H                address to listen on (default 127.0.0.1)
  --voice test|espeak     test: deterministic, decodable; espeak: real speech (default espeak)
  --key K                 accept this API key (repeatable); without --key any non-empty key is accepted
  --first-audio-ms N      delay before each utterance's first audio (default 0)
  --real-time-factor F    seconds spent per second of audio produced (default 0: as fast as possible)
  --max-connections N     connections at once before 429 (default 1000)
  --idle-timeout-ms N     close connections idle this long (default 30000)
  --frame-bytes N         size of every audio frame, in bytes (default 4095: odd, as Rime cuts pcm anywhere)
  --sentence-buffering B  when segment=bySentence synthesizes: punctuation (at a . , ? ! at once) or
                          whitespace (only once whitespace follows it) (default punctuation)
  -h, --help              show this help
`;

const serveOptions = {
  port: { type: 'string', default: '8787' },
  host: { type: 'string', default: '127.0.0.1' },
  voice: { type: 'string', default: 'espeak' },
  key: { type: 'string', multiple: true },
  'first-audio-ms': { type: 'string' },
  'real-time-factor': { type: 'string' },
  'max-connections': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'frame-bytes': { type: 'string' },
  'sentence-buffering': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const numeric = (value: string | undefined): unknown => (value === undefined ? undefined : numberFromText(value));

/** `rime-rx serve`: resolves with the exit code once the server has shut down. */
export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: serveOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    io.err.write(`rime-rx serve: ${parseErrorMessage(error, serveOptions)} (try --help)\n`);
    return 2;
  }
  if (parsed.help === true) {
    io.out.write(serveUsage);
    return 0;
  }
  let server;
  try {
    const flags = {
      port: numeric(parsed.port),
      host: parsed.host,
      voice: parsed.voice,
      apiKeys: parsed.key,
      firstAudioMs: numeric(parsed['first-audio-ms']),
      realTimeFactor: numeric(parsed['real-time-factor']),
      maxConnections: numeric(parsed['max-connections']),
      idleTimeoutMs: numeric(parsed['idle-timeout-ms']),
      frameBytes: numeric(parsed['frame-bytes']),
      sentenceBuffering: parsed['sentence-buffering'],
    };
    // Flags are unchecked text; createRimeServer decodes its config with io-ts and quotes bad values back.
    server = await createRimeServer({ ...(flags as RimeServerConfig), log: (line) => io.err.write(`${line}\n`) });
  } catch (error) {
    const usage = error instanceof RimeError && error.kind === 'invalid-options';
    io.err.write(`rime-rx serve: ${messageOf(error)}\n`);
    return usage ? 2 : 1;
  }
  io.out.write(`${server.url}\n`);
  io.err.write(`rime-rx serve: listening with the ${parsed.voice} voice; Ctrl-C to stop\n`);
  await Promise.race([once(io.signals, 'SIGINT'), once(io.signals, 'SIGTERM')]);
  await server.close();
  io.err.write('rime-rx serve: stopped\n');
  return 0;
}
