#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const usage = `Usage: rime-rx <command> [options]

Streaming text to streaming speech through Rime's websocket TTS API.

Options:
  -h, --help      show this help
  -v, --version   print the version

Commands arrive with the CLI work: speak (text to an audio file) and serve (the local Rime-compatible server).
`;

function version(): string {
  // __dirname is lib/cli under tsx and dist/cli when built: package.json is two levels up either way.
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest ? String(manifest.version) : 'unknown';
}

/** Runs the CLI with `args` (without `node` and the script), returning the exit code. */
export function main(args: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const [first] = args;
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

if (require.main === module) process.exitCode = main(process.argv.slice(2), process.stdout, process.stderr);
