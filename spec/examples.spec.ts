import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as llmToFile } from '../examples/llm-to-file';
import { main as voiceAgent } from '../examples/voice-agent';

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
    // The words kept are the words heard: the start of the reply, as far as the audio went.
    expect(heard).toContain(cut.slice(0, -1));
    expect('Our opening hours are nine to five on weekdays, and on Saturdays we open at ten, but on Sundays we stay closed.'.startsWith(cut.slice(0, -1))).toBe(true);
  });
});
