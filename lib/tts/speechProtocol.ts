import { CLEAR, type ClientMessage } from '../protocol/messages';
import { plainWire } from '../protocol/plain';
import type { Wire } from '../protocol/wire';

/**
 * What the session needs to know of a protocol beyond its codec: the parts of the speech's behaviour that differ
 * between Rime's protocols, injected rather than written into the session.
 */
export interface SpeechProtocol {
  readonly wire: Wire;
  /**
   * What a fresh connection says in place of a failed one, given the failed one's log and where the text no audio
   * answered begins (0 unless the server closed cleanly).
   */
  replay(log: readonly ClientMessage[], unansweredFrom: number): readonly ClientMessage[];
  /** What tells the server of an interruption, sent just before the interrupted connection is closed. */
  readonly interruption: ClientMessage;
}

/**
 * Rime's plain `/ws`: its audio says nothing of which text it answers (audio of one segment cannot be told from
 * that of the next), so a retry says everything again; an interruption is `<CLEAR>` and a close (audio already on
 * its way could not be told from later audio), and the speech goes on on another connection.
 */
export const plainSpeech: SpeechProtocol = {
  wire: plainWire,
  replay: (log, unansweredFrom) => log.slice(unansweredFrom),
  interruption: CLEAR,
};
