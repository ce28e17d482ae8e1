import { Subject, asyncScheduler, from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { jsonWire } from '../../lib/protocol/json';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import type { RimeEvent } from '../../lib/tts/events';
import { type RimeTtsConfig, rimeTts } from '../../lib/tts/rimeTts';
import { answering } from '../support/ws3Fake';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const ws3 = (fake: FakeTransport, extra: Partial<RimeTtsConfig> = {}): RimeTtsConfig => ({
  speaker: 'cove',
  apiKey: 'test-key',
  audioFormat: 'mp3',
  protocol: 'ws3',
  transport: fake.transport,
  retry: { count: 2, delay: 10 },
  ...extra,
});

describe("rimeTts() on Rime's JSON protocol (/ws3), with a fake transport", () => {
  it('sends each segment as JSON in a context of its own, with a flush; completes on the close after the last done', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering();
      const source = cold('a-b-|', { a: 'Hello there. How', b: ' are you?' });
      expectObservable(source.pipe(rimeTts(ws3(fake)), map(text))).toBe('-a---(b|)', { a: '[Hello there.]', b: '[How are you?]' });
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.frames).toEqual([
        '{"text":"Hello there.","contextId":"0.0"}',
        '{"operation":"flush"}',
        '{"text":" How are you?","contextId":"0.1"}',
        '{"operation":"flush"}',
        '{"operation":"eos"}',
      ]);
    });
  });

  it('a flush ends the turn on the same connection: no eos, no second connection; the next turn has new contexts', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const fake = answering();
      const flushes = hot('--f', { f: undefined });
      const source = cold('a---b|', { a: 'One.', b: 'Two.' });
      // 'One.' waits for the flush (a "." may go on, as in 3.14); 'Two.' for the end of the text.
      expectObservable(source.pipe(rimeTts(ws3(fake, { flush: flushes })), map(text))).toBe('---a--(b|)', { a: '[One.]', b: '[Two.]' });
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.messages.filter((message) => message.type === 'text').map((message) => message.type === 'text' && message.contextId)).toEqual(['0.0', '1.1']);
    });
  });

  it("an interruption: clear on the same connection, the interrupted turn's chunks dropped (tagged or untagged), the next turn's emitted", () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      // A server that answers late: the old turn's audio comes after the clear, as Rime's clear cancels nothing asked.
      const fake = new FakeTransport((connection) => {
        connection.open((message) => {
          if (message.type === 'text' && message.text === 'Old one.') {
            asyncScheduler.schedule(() => connection.audio('old-a', message.contextId), 3);
            asyncScheduler.schedule(() => connection.audio('old-untagged', null), 4);
            asyncScheduler.schedule(() => connection.send({ type: 'done', contextId: message.contextId ?? null }), 5);
          }
          if (message.type === 'text' && message.text === 'New one.') {
            asyncScheduler.schedule(() => connection.audio('new', message.contextId), 1);
            asyncScheduler.schedule(() => connection.send({ type: 'done', contextId: message.contextId ?? null }), 2);
          }
          if (message.type === 'eos') asyncScheduler.schedule(() => connection.close(1000), 8);
        });
      }, jsonWire);
      const clears = hot('--c', { c: undefined });
      // 'Old one.' is sent at once (the next word decides it); ' The' is still held at the clear, and dropped.
      const source = cold('a--b|', { a: 'Old one. The', b: 'New one.' });
      expectObservable(source.pipe(rimeTts(ws3(fake, { clear: clears })), map(text))).toBe('-----a------|', { a: 'new' });
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.frames).toEqual([
        '{"text":"Old one.","contextId":"0.0"}',
        '{"operation":"flush"}',
        '{"operation":"clear"}',
        '{"text":"New one.","contextId":"1.1"}',
        '{"operation":"flush"}',
        '{"operation":"eos"}',
      ]);
    });
  });

  it('a chunk tagged null before any other is the first text\'s (Rime tags the first sentence so): emitted', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = new FakeTransport((connection) => {
        connection.open((message) => {
          if (message.type === 'text') {
            connection.audio('first', null);
            connection.send({ type: 'done', contextId: message.contextId ?? null });
          }
          if (message.type === 'eos') connection.close(1000);
        });
      }, jsonWire);
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(ws3(fake)), map(text))).toBe('-(a|)', { a: 'first' });
    });
  });

  it('an error message from Rime is a protocol error, not retried', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = new FakeTransport((connection) => connection.open((message) => message.type === 'text' && connection.send({ type: 'error', message: 'bad input' })), jsonWire);
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(ws3(fake)))).toBe('-#', undefined, expect.objectContaining({ kind: 'protocol', message: 'Rime refused a message: bad input' }));
      flush();
      expect(fake.connections).toHaveLength(1);
    });
  });

  it.each([
    ['not JSON', 'not JSON from the server: "not JSON"'],
    ['{"type":"chunk","data":"%%%"}', 'a malformed chunk message from Rime: "{\\"type\\":\\"chunk\\",\\"data\\":\\"%%%\\"}"'],
  ])('a malformed frame from the server (%s) is a protocol error, never a crash', (frame, message) => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = new FakeTransport((connection) => connection.open((sent) => sent.type === 'text' && connection.frame(frame)), jsonWire);
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(ws3(fake)))).toBe('-#', undefined, expect.objectContaining({ kind: 'protocol', message }));
    });
  });

  it('a message of a type Rime does not document is ignored', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = answering({ before: (connection) => {
        connection.frame('{"type":"metrics","latency":3}');
        return true;
      } });
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(ws3(fake)), map(text))).toBe('--(a|)', { a: '[Hi.]' });
    });
  });

  it('a retry after a drop says again only the segments whose done had not come, in their contexts', () => {
    scheduler().run(({ flush }) => {
      let dropped = false;
      const fake = answering({ before: (connection, message) => {
        if (!dropped && message.type === 'text' && message.text.includes('Three')) {
          dropped = true;
          asyncScheduler.schedule(() => connection.close(1006), 0);
          return false;
        }
        return true;
      } });
      const events: RimeEvent[] = [];
      const heard: string[] = [];
      const text$ = new Subject<string>();
      text$.pipe(rimeTts(ws3(fake, { events: { next: (event) => events.push(event) } }))).subscribe((chunk) => heard.push(text(chunk)));
      text$.next('One. ');
      text$.next('Two. ');
      flush();
      text$.next('Three. ');
      text$.next('Four.');
      text$.complete();
      flush();
      expect(heard).toEqual(['[One.]', '[Two.]', '[Three.]', '[Four.]']);
      expect(fake.connections).toHaveLength(2);
      const replayed = fake.connections[1]?.messages.filter((message) => message.type === 'text').map((message) => message.type === 'text' && message.contextId);
      expect(replayed).toEqual(['0.2', '0.3']);
      expect(events.find((event) => event.type === 'retry')).toMatchObject({ replayedSegments: 2, replayedCharacters: ' Three.'.length + ' Four.'.length });
    });
  });

  it('a clean close after eos but before the last done is a failure: retried, and only the unfinished text is said again', () => {
    scheduler().run(({ flush }) => {
      const fake = answering({ before: (connection, message) => {
        // The first connection closes cleanly after eos without ever answering the text.
        if (connection.index === 0 && message.type !== 'text') {
          if (message.type === 'eos') asyncScheduler.schedule(() => connection.close(1000), 1);
          return false;
        }
        return true;
      } });
      const heard: string[] = [];
      from(['Only one.']).pipe(rimeTts(ws3(fake))).subscribe((chunk) => heard.push(text(chunk)));
      flush();
      expect(heard).toEqual(['[Only one.]']);
      expect(fake.connections).toHaveLength(2);
      expect(fake.connections[1]?.messages.map((message) => message.type)).toEqual(['text', 'flush', 'eos']);
    });
  });

  it("Rime's idle close: the connection is opened again at once, so the next text waits for no handshake", () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering();
      asyncScheduler.schedule(() => fake.connections[0]?.close(1000, 'idle'), 2000);
      asyncScheduler.schedule(() => expect(fake.connections.map((connection) => connection.live)).toEqual([false, true]), 2001);
      const source = cold('a 2999ms b|', { a: 'Before the pause? ', b: 'After it? ' });
      expectObservable(source.pipe(rimeTts(ws3(fake)), map(text))).toBe('-a 2999ms b|', { a: '[Before the pause?]', b: '[After it?]' });
      flush();
      expect(fake.connections[1]?.messages.filter((message) => message.type === 'text')).toHaveLength(1);
    });
  });

  it('a connection closed as soon as it opened is not opened again until more text comes', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering();
      asyncScheduler.schedule(() => fake.connections[0]?.close(1000, 'idle'), 10);
      asyncScheduler.schedule(() => expect(fake.connections).toHaveLength(1), 500);
      const source = cold('1000ms b|', { b: 'Later. ' });
      expectObservable(source.pipe(rimeTts(ws3(fake)), map(text))).toBe('1000ms --(b|)', { b: '[Later.]' });
      flush();
      expect(fake.connections).toHaveLength(2);
    });
  });

  it('asks Rime for at most two syntheses ahead (its clear cancels none already asked for): the next segment goes at a done', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = answering({ delay: 10 });
      const source = cold('(abcd|)', { a: 'One? ', b: 'Two? ', c: 'Three? ', d: 'Four? ' });
      source.pipe(rimeTts(ws3(fake))).subscribe();
      flush();
      const texts = (fake.connections[0]?.sent ?? []).filter((entry) => typeof entry.frame === 'string' && entry.frame.includes('"text"'));
      // Two at once; the next two once those are done (each flush is answered 10 frames on).
      expect(texts.map((entry) => entry.time)).toEqual([0, 0, 10, 10]);
    });
  });
});
