import type { OperatorFunction } from 'rxjs';
import { CLEAR, type ClientMessage, EOS, FLUSH, textMessage } from '../protocol/messages';
import { RIME_TEXT_LIMIT } from '../protocol/rules';
import { CommandNeutralizer } from '../text/safety';
import { segmenterFactory } from '../text/sentences';
import { type TextControls, chainStages, stageOperator } from '../text/textStage';

export interface TtsCommandsConfig extends TextControls {
  readonly pauseBetweenBrackets: boolean;
}

const { createSegmenter } = segmenterFactory({ maxLength: RIME_TEXT_LIMIT });
const markers = { flush: FLUSH, clear: CLEAR, end: EOS };

/**
 * Turns a token stream and its control observables into what the speech is asked, in the protocol's vocabulary:
 * text made safe (`safeText()` rules) and cut into whole segments (`sentences()` rules, at most Rime's 1000
 * characters), `flush` after the text it releases, `clear` after the held text is dropped, and `eos` once the
 * source completes. (The session decides what each means on the wire: a flush ends a turn.)
 *
 * ```
 * source: -a--f--b-|      a = 'Hi, th'   f = flush   b = 'ere.'
 * result: -x--(yz)-(wv|)  x = text 'Hi,'   y = text ' th'   z = flush   w = text 'ere.'   v = eos
 * ```
 */
export function ttsCommands(config: TtsCommandsConfig): OperatorFunction<string, ClientMessage> {
  return stageOperator(() => chainStages(new CommandNeutralizer(config), createSegmenter()), config, textMessage, markers);
}
