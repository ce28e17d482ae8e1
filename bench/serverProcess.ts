import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** Runs `rime-rx serve` in its own process (from source, through tsx), so a client benchmark measures the client alone. */
export async function startServerProcess(flags: readonly string[]): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '..', 'lib', 'cli', 'main.ts'), 'serve', '--port', '0', '--voice', 'test', ...flags],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  if (child.stdout === null) throw new Error('no stdout from the server process');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return {
    url: line.trim(),
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
