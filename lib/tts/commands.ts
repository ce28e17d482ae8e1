import type { OperatorFunction } from 'rxjs';
import { CommandNeutralizer } from '../text/safety';
import { DEFAULT_MAX_LENGTH, segmenterFactory } from '../text/sentences';
import { type TextControls, chainStages, stageOperator } from '../text/textStage';

/** What the text side asks of the connection, in order. */
export type TtsCommand =
  | { readonly kind: 'segment'; readonly text: string }
  | { readonly kind: 'flush' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'eos' };

export interface TtsCommandsConfig extends TextControls {
  readonly pauseBetweenBrackets: boolean;
}

const { createSegmenter } = segmenterFactory({ maxLength: DEFAULT_MAX_LENGTH });
const segment = (text: string): TtsCommand => ({ kind: 'segment', text });
const markers = { flush: { kind: 'flush' }, clear: { kind: 'clear' }, end: { kind: 'eos' } } as const;

/**
 * Turns a token stream and its control observables into the commands `rimeTts` sends: text made safe
 * (`safeText()` rules) and cut into whole segments (`sentences()` rules, at most 1000 characters), `flush` after
 * the text it releases, `clear` after the held text is dropped, and `eos` once the source completes.
 *
 * ```
 * source: -a--f--b-|      a = 'Hi, th'   f = flush   b = 'ere.'
 * result: -x--(yz)-(wv|)  x = segment 'Hi,'   y = segment ' th'   z = flush   w = segment 'ere.'   v = eos
 * ```
 */
export function ttsCommands(config: TtsCommandsConfig): OperatorFunction<string, TtsCommand> {
  return stageOperator(() => chainStages(new CommandNeutralizer(config), createSegmenter()), config, segment, markers);
}
