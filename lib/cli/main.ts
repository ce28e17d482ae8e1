#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from './io';
import { serve } from './serve';
import { speak } from './speak';
import { voices } from './voices';

const usage = `Usage: rime-rx <command> [options]

Streaming text to streaming speech through Rime's websocket TTS API.

Commands:
  speak           speak text into an audio file (rime-rx speak --help)
  serve           run the local Rime-compatible server (rime-rx serve --help)
  voices          list the voices of the bundled catalog (rime-rx voices --help)

Options:
  -h, --help      show this help
  -v, --version   print the version
`;

function version(): string {
  // __dirname is lib/cli under tsx and dist/cli when built: package.json is two levels up either way.
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest ? String(manifest.version) : 'unknown';
}

/** Runs the CLI with `args` (without `node` and the script), resolving with the exit code. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const { out, err } = io;
  const [first, ...rest] = args;
  if (first === 'serve') return serve(rest, io);
  if (first === 'speak') return speak(rest, io);
  if (first === 'voices') return voices(rest, io);
  if (first === undefined || first === '-h' || first === '--help') {
    (first === undefined ? err : out).write(usage);
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    out.write(`${version()}\n`);
    return 0;
  }
  err.write(`rime-rx: unknown command or option "${first}" (try --help)\n`);
  return 2;
}

if (require.main === module) {
  const io = { out: process.stdout, err: process.stderr, signals: process, stdin: process.stdin, env: process.env, errIsTTY: process.stderr.isTTY };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
    // The work is done and its exit code decided: a signal while the last sockets close (a second Ctrl-C that came
    // a moment after the first) exits with it, rather than killing the process with the signal's own.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(code));
  });
}
