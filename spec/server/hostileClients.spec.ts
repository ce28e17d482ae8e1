import fc from 'fast-check';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/testing/testVoiceCodec';
import { type Session, open, speak } from '../support/wsClient';

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
