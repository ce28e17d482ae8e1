import { type MonoTypeOperatorFunction, type ObservableInput, Observable, Subscription, from } from 'rxjs';

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
}

/** Control observables: each emission is a command; their completion means nothing, their errors end the stream. */
export interface TextControls {
  /** Each emission releases what is held now. */
  readonly flush?: ObservableInput<unknown>;
  /** Each emission drops what is held now. */
  readonly clear?: ObservableInput<unknown>;
}

/**
 * Runs a fresh {@link TextStage} per subscription over the source and the control observables.
 *
 * Written as a plain `Observable` rather than a composition of `merge`/`scan`, because this sits on the per-token
 * hot path (millions of tokens a second) and a composition would allocate an event object per token. Controls are
 * subscribed before the source so a synchronous source still sees them.
 */
export function textStage(createStage: () => TextStage, controls: TextControls): MonoTypeOperatorFunction<string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      const stage = createStage();
      const emit: Emit = (text) => subscriber.next(text);
      const subscriptions = new Subscription();
      const listen = (control: ObservableInput<unknown> | undefined, act: () => void): void => {
        if (control === undefined) return;
        subscriptions.add(from(control).subscribe({ next: act, error: (error: unknown) => subscriber.error(error) }));
      };
      listen(controls.clear, () => stage.clear());
      listen(controls.flush, () => stage.flush(emit));
      subscriptions.add(
        source.subscribe({
          next: (token) => stage.write(token, emit),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            stage.end(emit);
            subscriber.complete();
          },
        }),
      );
      return subscriptions;
    });
}
