import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as llmToFile } from '../examples/llm-to-file';
import { main as telephony } from '../examples/telephony';
import { main as voiceAgent } from '../examples/voice-agent';
import { sampleOfMulaw } from '../lib/server/encode';

describe('the examples still run', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => {});
  afterAll(() => log.mockRestore());

  it('llm-to-file writes a playable WAV of the whole answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rime-rx-example-'));
    try {
      const bytes = await llmToFile(join(dir, 'answer.wav'), 'test');
      const file = readFileSync(join(dir, 'answer.wav'));
      expect(file.readUInt32LE(40)).toBe(bytes);
      expect(bytes / 2 / 24000).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('voice-agent: the interrupted reply is cut off where the listener was, the transcript cut to it, the next reply heard', async () => {
    const { heard, transcript, events } = await voiceAgent();
    expect(heard).toMatch(/^Hello! How can I help you today\?/);
    expect(heard).not.toContain('Sundays');
    expect(heard.endsWith('Of course, go ahead.')).toBe(true);
    expect(events).toEqual(['done 0', 'interrupted 1', 'done 2']);
    const cut = transcript[1] ?? '';
    expect(cut.endsWith('…')).toBe(true);
    // The words kept are the words heard, the start of the reply as far as the audio went: every word whose audio
    // had started at the barge-in (the last of them may be cut in its middle).
    const words = cut.slice(0, -1).split(' ');
    const last = words.pop() ?? '';
    expect(heard).toContain(`${words.join(' ')} ${last.charAt(0)}`);
    expect('Our opening hours are nine to five on weekdays, and on Saturdays we open at ten, but on Sundays we stay closed.'.startsWith(cut.slice(0, -1))).toBe(true);
  });

  it('telephony: 20 ms frames of 8 kHz mu-law (160 bytes each), as base64 media messages, the whole of both replies', async () => {
    const { messages } = await telephony();
    const frames = messages.map((message) => Buffer.from(message.media.payload, 'base64'));
    expect(frames.length).toBeGreaterThan(100);
    expect(frames.every((frame) => frame.length === 160)).toBe(true);
    expect(messages.every((message) => message.event === 'media' && message.streamSid === 'call-1')).toBe(true);
    // The test voice: each utterance an 8-sample marker and 480 samples (60 ms at 8 kHz) a character; one byte a
    // sample in mu-law. Three utterances of 19, 26 and 23 characters, cut into frames, the last padded with silence.
    const bytes = 3 * 8 + (19 + 26 + 23) * 480;
    expect(frames.length).toBe(Math.ceil(bytes / 160));
    const tail = Buffer.concat(frames).subarray(bytes);
    expect([...tail].every((byte) => sampleOfMulaw(byte) === 0)).toBe(true);
  });
});
