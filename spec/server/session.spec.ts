import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RimeQueryOptions } from '../../lib/options';
import { CLEAR, type ClientMessage, type ContextId, EOS, FLUSH, type ServerMessage, textMessage } from '../../lib/protocol/messages';
import type { ServerEvent } from '../../lib/server/events';
import { type SessionHost, type SessionSettings, SynthesisSession } from '../../lib/server/session';
import { createTestVoice } from '../../lib/server/voices/test';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import type { Voice } from '../../lib/server/voices/voice';
import { concatenated } from '../support/audio';
import { queryOptions } from '../support/settings';

type Segment = RimeQueryOptions['segment'];

interface Sent {
  readonly bytes: number;
  readonly pacingMs: number;
  readonly last: boolean;
}

/** A session on a hand-made host that records what it is told; `closed` once the session closes it. */
function harness(segment: Segment, settings: Partial<SessionSettings> = {}, voice: Voice = createTestVoice(), query: Partial<RimeQueryOptions> = {}) {
  const events: ServerEvent[] = [];
  const audio: Uint8Array[] = [];
  const sent: Sent[] = [];
  const closes: [number, string][] = [];
  const delays: number[] = [];
  const contexts: ContextId[] = [];
  const told: ServerMessage[] = [];
  const state = { closed: false, finished: 0, onSend: (): void => {} };
  const options: RimeQueryOptions = { ...queryOptions({ samplingRate: 8000, segment }), ...query };
  const host: SessionHost = {
    id: 7,
    options,
    voice,
    settings: { firstAudioMs: 0, realTimeFactor: 0, maxTextLength: 1000, maxWaitingCharacters: 1_000_000, sentenceBuffering: 'punctuation', ...settings },
    emit: (event) => events.push(event),
    closed: () => state.closed,
    send: async (encoded, pacingMs, contextId, last = false) => {
      audio.push(encoded);
      sent.push({ bytes: encoded.length, pacingMs, last });
      contexts.push(contextId);
      state.onSend();
    },
    tell: async (message) => {
      told.push(message);
    },
    delay: async (milliseconds) => {
      delays.push(milliseconds);
    },
    close: (code, reason) => {
      state.closed = true;
      closes.push([code, reason]);
    },
    finished: async () => {
      state.finished++;
    },
  };
  const session = new SynthesisSession(host);
  const take = (...messages: (ClientMessage | string)[]) =>
    messages.forEach((message) => session.take(typeof message === 'string' ? textMessage(message) : message));
  /** Waits until nothing is synthesized or sent any more. */
  const idle = async () => {
    for (let turns = 0; session.busy && turns < 10_000; turns++) await nextTurn();
    expect(session.busy).toBe(false);
  };
  const synthesized = () => events.flatMap((event) => (event.type === 'synthesis' ? [event.text] : []));
  const spoken = () => decodeTestSpeech(concatenated(audio)).utterances;
  return { session, take, idle, events, sent, closes, delays, state, synthesized, spoken, contexts, told };
}

describe('SynthesisSession', () => {
  describe('segment modes', () => {
    it('immediate: every text is synthesized as it comes, one utterance each, in order', async () => {
      const { take, idle, synthesized, spoken, closes } = harness('immediate');
      take('Hello', ' there.');
      await idle();
      expect(synthesized()).toEqual(['Hello', ' there.']);
      expect(spoken()).toEqual(['Hello', ' there.']);
      expect(closes).toEqual([]);
    });

    it('never: nothing until a flush, which synthesizes everything held as one utterance', async () => {
      const { take, idle, synthesized, spoken, session } = harness('never');
      take('Hello', ' there. How', ' are you?');
      expect(session.busy).toBe(false);
      await idle();
      expect(synthesized()).toEqual([]);
      take(FLUSH);
      await idle();
      expect(synthesized()).toEqual(['Hello there. How are you?']);
      expect(spoken()).toEqual(['Hello there. How are you?']);
    });

    it('bySentence (punctuation): up to the last . , ? ! that ends the buffer or is followed by whitespace', async () => {
      const { take, idle, synthesized, spoken } = harness('bySentence', { sentenceBuffering: 'punctuation' });
      take('One. Two, three');
      await idle();
      expect(synthesized()).toEqual(['One. Two,']);
      take(' four!');
      await idle();
      expect(synthesized()).toEqual(['One. Two,', ' three four!']);
      expect(spoken()).toEqual(['One. Two,', ' three four!']);
    });

    it('bySentence (whitespace): a boundary at the end of the buffer waits for the whitespace after it', async () => {
      const { take, idle, synthesized } = harness('bySentence', { sentenceBuffering: 'whitespace' });
      take('One.');
      await idle();
      expect(synthesized()).toEqual([]);
      take(' Two');
      await idle();
      expect(synthesized()).toEqual(['One.']);
      take(FLUSH);
      await idle();
      expect(synthesized()).toEqual(['One.', ' Two']);
    });

    it.each(['punctuation', 'whitespace'] as const)(
      'bySentence (%s): a boundary inside a word (Dr.Jones, 3.5) or another mark (; :) ends nothing',
      async (sentenceBuffering) => {
        const { take, idle, synthesized } = harness('bySentence', { sentenceBuffering });
        take('Dr.Jones paid 3.5; then: ');
        await idle();
        expect(synthesized()).toEqual([]);
        take(FLUSH);
        await idle();
        expect(synthesized()).toEqual(['Dr.Jones paid 3.5; then: ']);
      },
    );

    it('bySentence: a flush synthesizes what is left', async () => {
      const { take, idle, synthesized } = harness('bySentence');
      take('Done. And the rest', FLUSH);
      await idle();
      expect(synthesized()).toEqual(['Done.', ' And the rest']);
    });
  });

  describe('commands', () => {
    it('reports each text and command as it comes, and each synthesis as it starts', async () => {
      const { take, idle, events, state } = harness('never');
      take('Hi.', FLUSH, EOS);
      await idle();
      expect(events).toEqual([
        { type: 'text', connection: 7, text: 'Hi.' },
        { type: 'command', connection: 7, command: 'flush' },
        { type: 'synthesis', connection: 7, text: 'Hi.' }, // as the flush queues it
        { type: 'command', connection: 7, command: 'eos' },
      ]);
      expect(state.finished).toBe(1);
    });

    it('clear drops the buffer', async () => {
      const { take, idle, synthesized, events } = harness('never');
      take('dropped', CLEAR, 'kept', FLUSH);
      await idle();
      expect(synthesized()).toEqual(['kept']);
      expect(events).toContainEqual({ type: 'command', connection: 7, command: 'clear' });
    });

    it("clear empties the text buffer only, as Rime's does: what is queued for synthesis is synthesized", async () => {
      const { take, idle, synthesized, spoken } = harness('immediate');
      take('one', 'two', 'three', CLEAR);
      await idle();
      expect(synthesized()).toEqual(['one', 'two', 'three']);
      expect(spoken()).toEqual(['one', 'two', 'three']);
      const never = harness('never');
      never.take('held', CLEAR, 'after', FLUSH);
      await never.idle();
      expect(never.synthesized()).toEqual(['after']);
    });

    it('eos synthesizes what is held, then the connection finishes, once, after the last audio', async () => {
      const { take, idle, synthesized, sent, state } = harness('never');
      state.onSend = () => expect(state.finished).toBe(0);
      take('Last words', EOS);
      await idle();
      expect(synthesized()).toEqual(['Last words']);
      expect(sent[sent.length - 1]?.last).toBe(true);
      expect(state.finished).toBe(1);
    });

    it('eos with nothing held finishes at once, with no audio', async () => {
      const { take, idle, sent, state } = harness('bySentence');
      take(EOS);
      await idle();
      expect(sent).toEqual([]);
      expect(state.finished).toBe(1);
    });

    it('after eos nothing more is taken: no events, no synthesis', async () => {
      const { take, idle, events, synthesized, state } = harness('immediate');
      take('First.', EOS, 'ignored', FLUSH, EOS);
      await idle();
      expect(synthesized()).toEqual(['First.']);
      expect(events.map((event) => event.type)).toEqual(['text', 'synthesis', 'command']);
      expect(state.finished).toBe(1);
    });
  });

  describe('what follows the audio', () => {
    it("each utterance's word timings (English) and its end follow its audio, tagged with its context; eos adds an end of its own", async () => {
      // At 8000 Hz the utterance marker is 8 samples and a character 480: 'Hi' spans samples 8-968, 'yo' 1448-2408.
      const { take, idle, told, contexts } = harness('immediate');
      take({ type: 'text', text: 'Hi yo', contextId: 'c1' }, EOS);
      await idle();
      expect(told).toEqual([
        {
          type: 'words',
          words: [
            { word: 'Hi', start: 0.001, end: 0.121 },
            { word: 'yo', start: 0.181, end: 0.301 },
          ],
          contextId: 'c1',
        },
        { type: 'done', contextId: 'c1' },
        { type: 'done', contextId: 'c1' },
      ]);
      expect(new Set(contexts)).toEqual(new Set(['c1']));
    });

    it('no word timings where Rime gives none (French): only the end', async () => {
      const { take, idle, told } = harness('immediate', {}, createTestVoice(), { lang: 'fra' });
      take('Salut');
      await idle();
      expect(told).toEqual([{ type: 'done', contextId: null }]);
    });

    it('a context persists across text that names none, until another is given; without one it is null', async () => {
      const { take, idle, told } = harness('immediate', {}, createTestVoice(), { lang: 'fra' });
      take('zero', { type: 'text', text: 'one', contextId: 'a' }, 'two', { type: 'text', text: 'three', contextId: null });
      await idle();
      expect(told).toEqual([
        { type: 'done', contextId: null },
        { type: 'done', contextId: 'a' },
        { type: 'done', contextId: 'a' },
        { type: 'done', contextId: null },
      ]);
    });
  });

  describe('limits', () => {
    it.each(['never', 'bySentence'] as const)('%s: 1000 characters held are fine; one more closes with 1011 400: text is too long', async (segment) => {
      const { take, idle, closes, synthesized } = harness(segment);
      take('x'.repeat(1000));
      expect(closes).toEqual([]);
      take('y');
      expect(closes).toEqual([[1011, '400: text is too long']]);
      await idle();
      expect(synthesized()).toEqual([]);
    });

    it('immediate: one text of more than 1000 characters closes with 1011 400: text is too long, and is not synthesized', async () => {
      const { take, idle, closes, synthesized } = harness('immediate');
      take('x'.repeat(1001));
      await idle();
      expect(closes).toEqual([[1011, '400: text is too long']]);
      expect(synthesized()).toEqual([]);
    });

    it('the limit is per synthesis: a flush empties the buffer', async () => {
      const { take, idle, closes, synthesized } = harness('never', { maxTextLength: 10 });
      take('abcdefghij', FLUSH, 'klmnopqrst', FLUSH);
      await idle();
      expect(closes).toEqual([]);
      expect(synthesized()).toEqual(['abcdefghij', 'klmnopqrst']);
    });

    it('maxTextLength is the setting, not a constant', async () => {
      const { take, closes } = harness('never', { maxTextLength: 5 });
      take('12345');
      expect(closes).toEqual([]);
      take('6');
      expect(closes).toEqual([[1011, '400: text is too long']]);
    });

    it('more text waiting than maxWaitingCharacters closes with 1008', () => {
      const { take, closes } = harness('never', { maxWaitingCharacters: 10 });
      take('12345', '12345');
      expect(closes).toEqual([]);
      take('1');
      expect(closes).toEqual([[1008, 'too much text waiting for synthesis']]);
    });

    it('text synthesized no longer waits', async () => {
      const { take, idle, closes, synthesized } = harness('immediate', { maxWaitingCharacters: 10 });
      take('abcdefgh');
      await idle();
      take('ijklmnop');
      await idle();
      expect(closes).toEqual([]);
      expect(synthesized()).toEqual(['abcdefgh', 'ijklmnop']);
    });

    it('a cleared buffer no longer waits', () => {
      const { take, closes } = harness('never', { maxWaitingCharacters: 10 });
      take('1234567890', CLEAR, '1234567890');
      expect(closes).toEqual([]);
    });
  });

  describe('whitespace', () => {
    it('immediate: whitespace-only text is reported but not synthesized, and does not wait', async () => {
      const { take, idle, synthesized, sent, events, closes } = harness('immediate', { maxWaitingCharacters: 5 });
      take('   ', '   ', '   ');
      await idle();
      expect(synthesized()).toEqual([]);
      expect(sent).toEqual([]);
      expect(events.filter((event) => event.type === 'text')).toHaveLength(3);
      expect(closes).toEqual([]);
    });

    it('never: a flush of whitespace alone synthesizes nothing; eos still finishes', async () => {
      const { take, idle, synthesized, sent, state } = harness('never');
      take(' \n ', FLUSH, EOS);
      await idle();
      expect(synthesized()).toEqual([]);
      expect(sent).toEqual([]);
      expect(state.finished).toBe(1);
    });

    it('whitespace around text is kept in the utterance', async () => {
      const { take, idle, synthesized, spoken } = harness('never');
      take('  ', 'Hi ', FLUSH);
      await idle();
      expect(synthesized()).toEqual(['  Hi ']);
      expect(spoken()).toEqual(['  Hi ']);
    });
  });

  describe('audio', () => {
    it('sends each chunk of the voice encoded, paced by realTimeFactor, then the end with last', async () => {
      // At 8000 Hz a character is 480 samples (960 pcm bytes, 60 ms); the voice yields the 8-sample utterance marker,
      // then up to 4 characters at a time.
      const { take, idle, sent } = harness('immediate', { realTimeFactor: 0.5 });
      take('Hello');
      await idle();
      expect(sent).toEqual([
        { bytes: 16, pacingMs: 0.5, last: false },
        { bytes: 3840, pacingMs: 120, last: false },
        { bytes: 960, pacingMs: 30, last: false },
        { bytes: 0, pacingMs: 0, last: true },
      ]);
    });

    it('waits firstAudioMs before the first audio of every utterance', async () => {
      const { take, idle, delays } = harness('immediate', { firstAudioMs: 25 });
      take('One.', 'Two.');
      await idle();
      expect(delays).toEqual([25, 25]);
    });

    it('busy while an utterance is synthesized or sent', async () => {
      const { take, idle, session } = harness('immediate');
      expect(session.busy).toBe(false);
      take('Hi');
      expect(session.busy).toBe(true);
      await idle();
      expect(session.busy).toBe(false);
    });

    it('stops sending once the connection is closed: no last chunk, no finish', async () => {
      const { take, idle, sent, state } = harness('immediate');
      state.onSend = () => (state.closed = true);
      take('A longer sentence.', EOS);
      await idle();
      expect(sent).toEqual([{ bytes: 16, pacingMs: 0, last: false }]);
      expect(state.finished).toBe(0);
    });

    it('a voice that fails closes with 1011 synthesis failed', async () => {
      const failing: Voice = {
        name: 'failing',
        synthesize: async function* () {
          throw new Error('the synthesizer broke');
        },
        close: async () => {},
      };
      const { take, idle, closes, state } = harness('immediate', {}, failing);
      take('Hi', EOS);
      await idle();
      expect(closes).toEqual([[1011, 'synthesis failed']]);
      expect(state.finished).toBe(0);
    });
  });
});
