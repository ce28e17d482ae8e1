import type { MonoTypeOperatorFunction } from 'rxjs';
import { type Emit, type TextControls, type TextStage, textStage } from './textStage';

const commandTags = /<(?:EOS|FLUSH|CLEAR)>/gi;
const commandOrPauseTags = /<(?:EOS|FLUSH|CLEAR|\d+)>/gi;

export interface SafeTextOptions {
  /** Keep `<200>`-style pause tags (Rime's `pauseBetweenBrackets`); otherwise they are removed. */
  readonly pauseBetweenBrackets?: boolean;
}

/**
 * `text` with every command tag (`<EOS>`, `<FLUSH>`, `<CLEAR>`, any letter case) removed, and pause tags (`<200>`)
 * removed unless `pauseBetweenBrackets` is set. Removal repeats until nothing changes, so a removal can never join
 * the pieces of a new command (`<EO<EOS>S>`).
 */
export function neutralize(text: string, options: SafeTextOptions = {}): string {
  if (!text.includes('<')) return text;
  const tags = options.pauseBetweenBrackets === true ? commandTags : commandOrPauseTags;
  let current = text;
  for (;;) {
    const next = current.replace(tags, '');
    if (next === current) return current;
    current = next;
  }
}

/**
 * Where the held-back tail of `text` starts, or `text.length` if nothing is held: the trailing run of tag characters
 * (`<`, letters, digits) from its first `<` (`"... <EO"`, `"... <20"`, `"<<EOS"`). Text from there on could still
 * become a command or a pause with the next token, or join what precedes a tag that the next token completes and
 * removes (`"<"` + `"<EOS>"` + `"0>"`), so it waits until a later character decides it.
 */
export function unfinishedTagStart(text: string): number {
  let start = text.length;
  for (let index = text.length - 1; index >= 0 && /[<A-Za-z0-9]/.test(text.charAt(index)); index--) {
    if (text.charAt(index) === '<') start = index;
  }
  return start;
}

/** Neutralises commands across token boundaries by holding back an unfinished tag until it is decided. */
export class CommandNeutralizer implements TextStage {
  private held = '';

  constructor(private readonly options: SafeTextOptions) {}

  write(token: string, emit: Emit): void {
    const text = neutralize(this.held + token, this.options);
    const hold = unfinishedTagStart(text);
    this.held = text.slice(hold);
    if (hold > 0) emit(text.slice(0, hold));
  }

  /** A flush keeps an unfinished tag: it is not speakable yet, and releasing it could let the next token complete it. */
  flush(): void {}

  clear(): void {
    this.held = '';
  }

  end(emit: Emit): void {
    if (this.held !== '') emit(this.held);
    this.held = '';
  }

  /** An unfinished tag is held whatever the pause: it is not speakable, and the next token may complete it. */
  readonly undecided = false;

  release(): void {}
}

/**
 * Makes a token stream safe to send to Rime as text: no command tag can reach the socket, even when it arrives
 * split across tokens (`"<EO"`, `"S>"`) or hidden by nesting. Pause tags pass only with `pauseBetweenBrackets`.
 *
 * ```
 * source: --a--b--|   a = 'Stop <EO'   b = 'S> now'
 * result: --x--y--|   x = 'Stop '      y = ' now'
 * ```
 *
 * The concatenation of everything emitted never contains a command. The cost: a token that ends in something that
 * could still become a tag (`<`, `<EO`, `<20`) is held back until the next token decides it.
 *
 * @example
 * llmTokens$.pipe(safeText()).subscribe(text => socket.send(text));
 */
export function safeText(options: SafeTextOptions & Pick<TextControls, 'clear'> = {}): MonoTypeOperatorFunction<string> {
  return textStage(() => new CommandNeutralizer(options), { clear: options.clear });
}
