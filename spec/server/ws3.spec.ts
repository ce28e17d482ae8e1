import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { openJson } from '../support/wsClient';

const pcm = { speaker: 'cove', audioFormat: 'pcm' } as const;
const silent = { log: () => {} };

describe("the local server's JSON protocol (/ws3), as Rime's docs describe it", () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer(silent);
  });
  afterAll(() => server.close());

  it('base64 chunks, word timestamps and done, each tagged with the context the audio was asked for in; eos ends with done, then 1000', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ text: 'Hello there, friend.', contextId: 'a' });
    session.send({ operation: 'flush' });
    session.send({ text: ' How are you?', contextId: 'b' });
    session.send({ operation: 'eos' });
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: '' });
    const types = session.messages.map((message) => `${message.type}:${message.contextId}`);
    expect(types.filter((type) => !type.startsWith('chunk'))).toEqual(['timestamps:a', 'done:a', 'timestamps:b', 'done:b', 'done:b']);
    expect(decodeTestSpeech(session.audio('a')).utterances).toEqual(['Hello there, friend.']);
    expect(decodeTestSpeech(session.audio('b')).utterances).toEqual([' How are you?']);
    const timestamps = session.messages.find((message) => message.type === 'timestamps')?.word_timestamps;
    expect(timestamps?.words).toEqual(['Hello', 'there,', 'friend.']);
  });

  it("the test voice's word timestamps are exact: each word's characters start and end where the codec finds them", async () => {
    const session = await openJson(server.url, { ...pcm, samplingRate: 16000, segment: 'never' });
    session.send({ text: 'One two  three.' });
    session.send({ operation: 'eos' });
    await session.closed;
    const { words, start, end } = session.messages.find((message) => message.type === 'timestamps')?.word_timestamps ?? { words: [], start: [], end: [] };
    const blockSeconds = 60 / 1000;
    expect(words).toEqual(['One', 'two', 'three.']);
    const utteranceMarker = 8 / 16000;
    const characterAt = (index: number) => utteranceMarker + index * blockSeconds;
    expect(start.map((value) => value.toFixed(6))).toEqual([characterAt(0), characterAt(4), characterAt(9)].map((value) => value.toFixed(6)));
    expect(end.map((value) => value.toFixed(6))).toEqual([characterAt(3), characterAt(7), characterAt(15)].map((value) => value.toFixed(6)));
    // And the audio is exactly as long as the characters say.
    expect(session.audio().length / 2 / 16000).toBeCloseTo(characterAt(15), 6);
  });

  it('a context persists across text that names none', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ text: 'First.', contextId: 'turn-1' });
    session.send({ operation: 'flush' });
    session.send({ text: 'Second.' });
    session.send({ operation: 'flush' });
    session.send({ operation: 'eos' });
    await session.closed;
    expect(session.messages.filter((message) => message.type === 'done').map((message) => message.contextId)).toEqual(['turn-1', 'turn-1', 'turn-1']);
    expect(new Set(session.messages.map((message) => message.contextId))).toEqual(new Set(['turn-1']));
  });

  it('no context given: everything is tagged null', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ text: 'Untagged.' });
    session.send({ operation: 'eos' });
    await session.closed;
    expect(new Set(session.messages.map((message) => message.contextId))).toEqual(new Set([null]));
  });

  it('bySentence and immediate: one done per synthesis run', async () => {
    const bySentence = await openJson(server.url, { ...pcm, segment: 'bySentence' });
    bySentence.send({ text: 'One. Two. ' });
    bySentence.send({ text: 'Three.' });
    await bySentence.received('done', 2);
    bySentence.send({ operation: 'eos' });
    await bySentence.closed;
    expect(decodeTestSpeech(bySentence.audio()).utterances).toEqual(['One. Two.', ' Three.']);
    expect(bySentence.messages.filter((message) => message.type === 'done')).toHaveLength(3);
    const immediate = await openJson(server.url, { ...pcm, segment: 'immediate' });
    immediate.send({ text: 'a b' });
    immediate.send({ text: ' c' });
    immediate.send({ operation: 'eos' });
    await immediate.closed;
    expect(immediate.messages.filter((message) => message.type === 'done')).toHaveLength(3);
  });

  it('a flush on an empty buffer produces nothing', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ operation: 'flush' });
    session.send({ operation: 'flush' });
    session.send({ operation: 'eos' });
    await session.closed;
    expect(session.messages.map((message) => message.type)).toEqual(['done']);
  });

  it('no timestamps for a language other than English or Spanish: chunks and done, no error', async () => {
    const french = await openJson(server.url, { speaker: 'juliette', lang: 'fra', audioFormat: 'pcm', segment: 'never' });
    french.send({ text: 'Bonjour.' });
    french.send({ operation: 'eos' });
    await french.closed;
    const types = new Set(french.messages.map((message) => message.type));
    expect(types).toEqual(new Set(['chunk', 'done']));
  });

  it('a malformed message is answered with an error and the socket stays open; the speech goes on', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send('this is not JSON');
    session.send({ operation: 'shout' });
    session.send({ text: 'Still here.' });
    session.send({ operation: 'eos' });
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: '' });
    const errors = session.messages.filter((message) => message.type === 'error');
    expect(errors.map((message) => message.message)).toEqual([
      'not JSON from the client: "this is not JSON"',
      'expected {"text": ...} or {"operation": "flush" | "clear" | "eos"}, got: "{\\"operation\\":\\"shout\\"}"',
    ]);
    expect(decodeTestSpeech(session.audio()).text).toBe('Still here.');
  });

  it('text over 1000 characters closes 1011 with 400: text is too long', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ text: 'a'.repeat(1001) });
    await expect(session.closed).resolves.toEqual({ code: 1011, reason: '400: text is too long' });
  });

  it('clear empties the text buffer only: a synthesis already asked for by a flush still comes', async () => {
    const session = await openJson(server.url, { ...pcm, segment: 'never' });
    session.send({ text: 'Flushed before the clear.', contextId: 'old' });
    session.send({ operation: 'flush' });
    session.send({ text: 'Held, then cleared.', contextId: 'old' });
    session.send({ operation: 'clear' });
    session.send({ text: 'After.', contextId: 'new' });
    session.send({ operation: 'eos' });
    await session.closed;
    expect(decodeTestSpeech(session.audio()).utterances).toEqual(['Flushed before the clear.', 'After.']);
  });

  it('faults apply to /ws3 as to /ws: a drop after a number of audio bytes, a close with a code', async () => {
    const faulty = await createRimeServer(silent);
    try {
      faulty.inject({ kind: 'drop', afterBytes: 3000 });
      const dropped = await openJson(faulty.url, { ...pcm, segment: 'never' });
      dropped.send({ text: 'A sentence long enough to pass three thousand bytes of audio.' });
      dropped.send({ operation: 'flush' });
      await expect(dropped.closed).resolves.toMatchObject({ code: 1006 });
      expect(dropped.audio().length).toBeLessThanOrEqual(3000);
      faulty.inject({ kind: 'close', code: 1011, reason: 'internal error' });
      const closed = await openJson(faulty.url, { ...pcm, segment: 'never' });
      await expect(closed.closed).resolves.toEqual({ code: 1011, reason: 'internal error' });
    } finally {
      await faulty.close();
    }
  });
});
