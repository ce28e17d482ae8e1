import {
  type MonoTypeOperatorFunction,
  type ObservableInput,
  type OperatorFunction,
  Observable,
  Subscription,
  asyncScheduler,
  from,
} from 'rxjs';
import { Deadline } from '../deadline';
import { RimeError } from '../errors';

/** Hands a piece of text downstream. */
export type Emit = (text: string) => void;

/**
 * A stateful step over a token stream (segmenting, neutralising). It decides what to release; the operator built
 * by {@link textStage} owns subscriptions and ordering.
 */
export interface TextStage {
  /** Takes the next token and emits every piece whose end is now certain. */
  write(token: string, emit: Emit): void;
  /** Emits what a flush releases. */
  flush(emit: Emit): void;
  /** Drops everything held. */
  clear(): void;
  /** The source completed: emits what remains. */
  end(emit: Emit): void;
  /**
   * Whether the held text ends in something only the next token can decide (a `.` that may be `3.14`): what a
   * pause in the source would leave waiting.
   */
  readonly undecided: boolean;
  /** No token came for a while: emits the undecided end as if the text went on with a new sentence. */
  release(emit: Emit): void;
}

/** Control observables: each emission is a command; their completion means nothing, their errors end the stream. */
export interface TextControls {
  /** Each emission releases what is held now. */
  readonly flush?: ObservableInput<unknown>;
  /** Each emission drops what is held now. */
  readonly clear?: ObservableInput<unknown>;
  /**
   * Milliseconds without a token after which held text whose end only the next token could decide is released
   * (default {@link DEFAULT_RELEASE_AFTER_MS}): an LLM pausing for a tool call must not hold a finished sentence.
   */
  readonly releaseAfterMs?: number;
}

/**
 * The default `releaseAfterMs`. Most LLM tokens come 10–60 ms apart, so a release this late almost never cuts what
 * the next token would have kept whole (`3.` + `14`), while a sentence before a pause waits 150 ms, not the pause.
 */
export const DEFAULT_RELEASE_AFTER_MS = 150;

/** Values a stage operator emits after the text a control released, and after the source completed. */
export interface StageMarkers<T> {
  readonly flush?: T;
  readonly clear?: T;
  readonly end?: T;
}

/**
 * Runs a fresh {@link TextStage} per subscription over the source and the control observables, emitting each piece
 * of text through `wrap` and, when given, a marker after a flush, a clear and the end of the source. When the stage
 * is left undecided and no token comes for `releaseAfterMs`, the stage releases its undecided end.
 *
 * Written as a plain `Observable` rather than a composition of `merge`/`scan`, because this sits on the per-token
 * hot path (millions of tokens a second) and a composition would allocate an event object per token. Controls are
 * subscribed before the source so a synchronous source still sees them. A token that is not a string (a JavaScript
 * caller's mistake) ends the stream with an `invalid-options` RimeError.
 */
export function stageOperator<T>(
  createStage: () => TextStage,
  controls: TextControls,
  wrap: (text: string) => T,
  markers: StageMarkers<T> = {},
): OperatorFunction<string, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const stage = createStage();
      const releaseAfterMs = controls.releaseAfterMs ?? DEFAULT_RELEASE_AFTER_MS;
      const emit: Emit = (text) => subscriber.next(wrap(text));
      const mark = (marker: T | undefined) => {
        if (marker !== undefined) subscriber.next(marker);
      };
      const subscriptions = new Subscription();
      // The quiet time counts from the token that left the stage undecided (the latest such token).
      let undecidedSince = 0;
      const release = new Deadline(releaseAfterMs, () => (stage.undecided ? undecidedSince : undefined), () => stage.release(emit));
      subscriptions.add(() => release.cancel());
      const listen = (control: ObservableInput<unknown> | undefined, act: () => void): void => {
        if (control === undefined) return;
        subscriptions.add(from(control).subscribe({ next: act, error: (error: unknown) => subscriber.error(error) }));
      };
      listen(controls.clear, () => {
        stage.clear();
        mark(markers.clear);
      });
      listen(controls.flush, () => {
        stage.flush(emit);
        mark(markers.flush);
      });
      // A control that failed at once has ended the stream: the source is not read at all.
      if (subscriber.closed) return subscriptions;
      subscriptions.add(
        source.subscribe({
          next: (token: unknown) => {
            // A synchronous source goes on after the stream failed (its subscription is not returned yet): ignore it.
            if (subscriber.closed) return;
            if (typeof token !== 'string') {
              return subscriber.error(RimeError.invalidOptions([`the text source must emit strings, got ${kindOf(token)}`]));
            }
            stage.write(token, emit);
            if (stage.undecided) {
              undecidedSince = asyncScheduler.now();
              release.watch();
            }
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            if (subscriber.closed) return;
            stage.end(emit);
            mark(markers.end);
            subscriber.complete();
          },
        }),
      );
      return subscriptions;
    });
}

/** {@link stageOperator} for plain text out. */
export function textStage(createStage: () => TextStage, controls: TextControls): MonoTypeOperatorFunction<string> {
  return stageOperator(createStage, controls, (text) => text);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

/** `first` then `second`: what `first` releases is written to `second`; flush and end pass through both in order. */
export function chainStages(first: TextStage, second: TextStage): TextStage {
  return {
    write: (token, emit) => first.write(token, (text) => second.write(text, emit)),
    flush: (emit) => {
      first.flush((text) => second.write(text, emit));
      second.flush(emit);
    },
    clear: () => {
      first.clear();
      second.clear();
    },
    end: (emit) => {
      first.end((text) => second.write(text, emit));
      second.end(emit);
    },
    get undecided() {
      return first.undecided || second.undecided;
    },
    release: (emit) => {
      first.release((text) => second.write(text, emit));
      second.release(emit);
    },
  };
}
