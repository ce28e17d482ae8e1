import { asyncScheduler } from 'rxjs';
import { jsonWire } from '../../lib/protocol/json';
import type { ClientMessage } from '../../lib/protocol/messages';
import { type FakeConnection, FakeTransport } from '../../lib/testing/fakeTransport';

export interface AnsweringOptions {
  /** Frames after a flush (or eos) that its texts are answered. */
  readonly delay?: number;
  /** Whether each text's answer starts with word timings (one word every 0.5 s). */
  readonly words?: boolean;
  /** Sees each message first; false: the server ignores it. */
  readonly before?: (connection: FakeConnection, message: ClientMessage) => boolean;
  /** Frames each upgrade takes (default 0: open at once). */
  readonly handshake?: number;
  /** With `words`: each chunk is as long as its words (0.5 s each) at this many bytes a second, not "[text]". */
  readonly bytesPerSecond?: number;
}

/**
 * A /ws3 server played in messages: each flushed text is answered `delay` frames later with (its words,) a chunk of
 * "[text]" and a done, tagged with the text's context; `eos` with a done, then a close 1000.
 */
export function answering({ delay = 1, words = false, before = () => true, handshake = 0, bytesPerSecond }: AnsweringOptions = {}): FakeTransport {
  return new FakeTransport((connection) => {
    let held: { text: string; contextId: string | null | undefined }[] = [];
    const open = (onMessage: (message: ClientMessage) => void) =>
      handshake === 0 ? connection.open(onMessage) : asyncScheduler.schedule(() => connection.live && connection.open(onMessage), handshake);
    open((message) => {
      if (!before(connection, message)) return;
      if (message.type === 'text') return void held.push({ text: message.text, contextId: message.contextId });
      if (message.type === 'clear') return void (held = []);
      const said = held;
      held = [];
      asyncScheduler.schedule(() => {
        if (!connection.live) return;
        for (const { text, contextId } of said) {
          const tag = contextId === undefined ? {} : { contextId };
          const timings = text.trim().split(/\s+/).map((word, index) => ({ word, start: index * 0.5, end: index * 0.5 + 0.4 }));
          if (words) connection.send({ type: 'words', words: timings, ...tag });
          const sized = words && bytesPerSecond !== undefined;
          connection.audio(sized ? new Uint8Array(Math.round(timings.length * 0.5 * bytesPerSecond)) : `[${text.trim()}]`, contextId);
          connection.send({ type: 'done', ...tag });
        }
        if (message.type === 'eos') {
          connection.send({ type: 'done', contextId: said.at(-1)?.contextId ?? null });
          connection.close(1000);
        }
      }, delay);
    });
  }, jsonWire);
}
