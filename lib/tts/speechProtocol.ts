import { jsonWire } from '../protocol/json';
import { CLEAR, type ClientMessage } from '../protocol/messages';
import { plainWire } from '../protocol/plain';
import type { Wire } from '../protocol/wire';
import type { ProtocolName } from '../options';

/**
 * What the session needs to know of a protocol beyond its codec: the parts of the speech's behaviour that differ
 * between Rime's protocols, injected rather than written into the session.
 */
export interface SpeechProtocol {
  readonly wire: Wire;
  /**
   * Whether Rime's answers carry the client's contexts and say when each synthesis is done (`/ws3`). Then every
   * answer is known to be of its segment: an interruption stays on the connection (stale answers are dropped), a
   * turn needs no connection of its own, and completion and retries count `done`s rather than audio.
   */
  readonly contexts: boolean;
  /**
   * What a fresh connection says in place of a failed one, given the failed one's log, where the text nothing
   * answered begins, and whether a text is still wanted (not interrupted).
   */
  replay(log: readonly ClientMessage[], unansweredFrom: number, live: (text: Extract<ClientMessage, { type: 'text' }>) => boolean): readonly ClientMessage[];
  /** What tells the server of an interruption. */
  readonly interruption: ClientMessage;
}

/**
 * Rime's plain `/ws`: its audio says nothing of which text it answers (audio of one segment cannot be told from
 * that of the next), so a retry says everything again, each turn has a connection of its own (so a retry reaches
 * back no further than its turn), and an interruption is `<CLEAR>` and a close (audio already on its way could not
 * be told from later audio): the speech goes on on another connection.
 */
export const plainSpeech: SpeechProtocol = {
  wire: plainWire,
  contexts: false,
  replay: (log, unansweredFrom) => log.slice(unansweredFrom),
  interruption: CLEAR,
};

/**
 * Rime's JSON `/ws3`: a retry says again only the segments whose `done` has not come, and none of an interrupted
 * turn; an interruption is `clear` on the same connection.
 */
export const jsonSpeech: SpeechProtocol = {
  wire: jsonWire,
  contexts: true,
  replay: (log, unansweredFrom, live) =>
    log.slice(unansweredFrom).filter((message) => (message.type === 'text' ? live(message) : message.type !== 'clear')),
  interruption: CLEAR,
};

export const speechProtocols: Readonly<Record<ProtocolName, SpeechProtocol>> = { ws: plainSpeech, ws3: jsonSpeech };
