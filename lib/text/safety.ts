import type { MonoTypeOperatorFunction } from 'rxjs';
import { PLAIN_COMMANDS } from '../protocol/plain';
import { type Emit, type TextControls, type TextStage, textStage } from './textStage';

/** What may stand between `<` and `>` in a command, upper-cased: `EOS`, `FLUSH`, `CLEAR`. */
const COMMAND_BODIES = Object.values(PLAIN_COMMANDS).map((command) => command.slice(1, -1));

export interface SafeTextOptions {
  /** Keep `<200>`-style pause tags (Rime's `pauseBetweenBrackets`); otherwise they are removed. */
  readonly pauseBetweenBrackets?: boolean;
}

/**
 * `text` with every command tag (`<EOS>`, `<FLUSH>`, `<CLEAR>`, any letter case) removed, and pause tags (`<200>`)
 * removed unless `pauseBetweenBrackets` is set. A removal never joins the pieces of a new command: `<EO<EOS>S>`
 * loses both (the result is what removing tags until none is left gives, in one pass).
 */
export function neutralize(text: string, options: SafeTextOptions = {}): string {
  if (!text.includes('<')) return text;
  const neutralizer = new CommandNeutralizer(options);
  let result = '';
  const collect: Emit = (piece) => (result += piece);
  neutralizer.write(text, collect);
  neutralizer.end(collect);
  return result;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * Neutralises commands across token boundaries, in one pass over the text: the tags still open at the end of what
 * was written (`<`, `<EO`, `<20`, nested: `<E<EO`) are held, innermost last, until a later character decides them.
 * A tag that closes as a command (or a pause, unless kept) is dropped, and the tag it was nested in goes on; a
 * character that no tag could continue with releases every held tag as text, since none of them can be completed
 * across it. Each character is looked at a bounded number of times, whatever the input (linear time).
 */
export class CommandNeutralizer implements TextStage {
  /** The tags open at the end of the text, each `<` and what follows it; only the last one can still grow. */
  private readonly open: string[] = [];

  constructor(private readonly options: SafeTextOptions) {}

  write(token: string, emit: Emit): void {
    let text = '';
    let index = 0;
    while (index < token.length) {
      if (this.open.length === 0) {
        const tagStart = token.indexOf('<', index);
        if (tagStart === -1) {
          text += index === 0 ? token : token.slice(index);
          break;
        }
        text += token.slice(index, tagStart);
        index = tagStart;
      }
      text += this.take(token.charCodeAt(index), token.charAt(index));
      index++;
    }
    if (text !== '') emit(text);
  }

  /** Takes one character while a tag is open (or opens one); returns the text it releases. */
  private take(code: number, char: string): string {
    const { open } = this;
    if (code === 0x3c) {
      open.push('<');
      return '';
    }
    const top = open.length - 1;
    const tag = open[top] ?? '';
    if (code === 0x3e) {
      const body = tag.slice(1);
      const pause = body !== '' && isDigit(body.charCodeAt(0));
      if (COMMAND_BODIES.includes(body.toUpperCase()) || (pause && this.options.pauseBetweenBrackets !== true)) {
        open.pop();
        return '';
      }
      return this.releaseWith(char);
    }
    const grown = tag + char;
    if (this.couldBecomeTag(grown, code)) {
      open[top] = grown;
      return '';
    }
    return this.releaseWith(char);
  }

  /** Whether `grown` (`tag` and the character `code`) is still the start of a command or a pause. */
  private couldBecomeTag(grown: string, code: number): boolean {
    if (isDigit(code)) return grown.length === 2 || isDigit(grown.charCodeAt(1));
    if (!isAsciiLetter(code)) return false;
    const body = grown.slice(1).toUpperCase();
    return COMMAND_BODIES.some((command) => command.startsWith(body));
  }

  /** Every open tag is text now (none can be completed across `char`), followed by `char`. */
  private releaseWith(char: string): string {
    const released = this.open.join('') + char;
    this.open.length = 0;
    return released;
  }

  /** A flush keeps an unfinished tag: it is not speakable yet, and releasing it could let the next token complete it. */
  flush(): void {}

  clear(): void {
    this.open.length = 0;
  }

  end(emit: Emit): void {
    const rest = this.open.join('');
    this.open.length = 0;
    if (rest !== '') emit(rest);
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
