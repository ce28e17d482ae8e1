import { WebSocket } from 'ws';

/**
 * The baseline client of the benchmarks: a bare `ws` socket to `address` (the URL with its query) that sends
 * `frames` once open and counts what arrives, until the server closes.
 */
export function rawClient(address: string, frames: readonly string[], onAudio: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(address, { headers: { Authorization: 'Bearer bench' } });
    socket.on('open', () => frames.forEach((frame) => socket.send(frame)));
    socket.on('message', (data: Buffer) => onAudio(data.length));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}
