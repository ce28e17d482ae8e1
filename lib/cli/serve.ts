import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { RimeError } from '../errors';
import { type RimeServerConfig, createRimeServer } from '../server/createRimeServer';
import { rimeServerFields } from '../server/options';
import { type OwnFlags, fieldsFromFlags, flagHelp, flagOptions, textFlag } from './flags';
import { type CliIo, messageOf, parseErrorMessage } from './io';

/** Where `serve` decides otherwise than `createRimeServer`: a fixed port to point clients at, and real speech. */
const serveDefaults = { port: 8787, voice: 'espeak' } as const;
const serveFlags: OwnFlags = { help: { short: 'h', doc: 'show this help' } };

export const serveUsage = `Usage: rime-rx serve [options]

Runs the local Rime-compatible websocket server (Rime's plain /ws protocol) until SIGINT or SIGTERM.
Prints the ws:// URL to connect to on stdout.

Options:
${flagHelp(rimeServerFields, { port: `${serveDefaults.port}`, voice: serveDefaults.voice }, serveFlags)}`;

const serveOptions = flagOptions([rimeServerFields], serveFlags);

/** `rime-rx serve`: resolves with the exit code once the server has shut down. */
export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: serveOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    io.err.write(`rime-rx serve: ${parseErrorMessage(error, serveOptions)} (try --help)\n`);
    return 2;
  }
  if (parsed['help'] === true) {
    io.out.write(serveUsage);
    return 0;
  }
  let server;
  try {
    // Flags are unchecked text; createRimeServer decodes its config with io-ts and quotes bad values back.
    const flags = { ...serveDefaults, ...fieldsFromFlags(rimeServerFields, parsed) } as RimeServerConfig;
    server = await createRimeServer({ ...flags, log: (line) => io.err.write(`${line}\n`) });
  } catch (error) {
    const usage = error instanceof RimeError && error.kind === 'invalid-options';
    io.err.write(`rime-rx serve: ${messageOf(error)}\n`);
    return usage ? 2 : 1;
  }
  io.out.write(`${server.url}\n`);
  io.err.write(`rime-rx serve: listening with the ${textFlag(parsed, 'voice') ?? serveDefaults.voice} voice; Ctrl-C to stop\n`);
  await Promise.race([once(io.signals, 'SIGINT'), once(io.signals, 'SIGTERM')]);
  await server.close();
  io.err.write('rime-rx serve: stopped\n');
  return 0;
}
