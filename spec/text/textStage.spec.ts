import { EMPTY, NEVER, Observable, Subject, defer, from, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import { DEFAULT_RELEASE_AFTER_MS, type Emit, type TextStage, chainStages, stageOperator, textStage } from '../../lib/text/textStage';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/**
 * A stage that emits its text up to and including the last `cut` character and holds the rest; it is undecided
 * while what it holds contains a ".". Flush, end and release emit what is held; clear drops it.
 */
class Holding implements TextStage {
  held = '';
  releases = 0;

  constructor(private readonly cut = ' ') {}

  write(token: string, emit: Emit): void {
    this.held += token;
    const end = this.held.lastIndexOf(this.cut) + 1;
    if (end > 0) {
      const out = this.held.slice(0, end);
      this.held = this.held.slice(end);
      emit(out);
    }
  }

  flush(emit: Emit): void {
    this.emitHeld(emit);
  }

  clear(): void {
    this.held = '';
  }

  end(emit: Emit): void {
    this.emitHeld(emit);
  }

  get undecided(): boolean {
    return this.held.includes('.');
  }

  release(emit: Emit): void {
    this.releases++;
    this.emitHeld(emit);
  }

  private emitHeld(emit: Emit): void {
    const held = this.held;
    this.held = '';
    if (held !== '') emit(held);
  }
}

const words = () => new Holding(' ');
const markers = { flush: 'F', clear: 'C', end: 'E' };
const marked = (controls: Parameters<typeof stageOperator>[1] = {}) => stageOperator(words, controls, (text) => `<${text}>`, markers);

describe('textStage()', () => {
  it('emits what the stage releases in the frame of the token that released it, and the rest on completion', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-|', { a: 'one tw', b: 'o', c: ' three' });
      expectObservable(source.pipe(textStage(words, {}))).toBe('-x---y-(z|)', { x: 'one ', y: 'two ', z: 'three' });
    });
  });

  it('flush releases what is held; clear drops it; neither emits anything of its own', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a---b---c-|', { a: 'one tw', b: 'o thr', c: 'ee' });
      const flush = hot('---f-------', { f: 0 });
      const clear = hot('-------c---', { c: 0 });
      expectObservable(source.pipe(textStage(words, { flush, clear }))).toBe('-x-y-z-----(w|)', {
        x: 'one ',
        y: 'tw',
        z: 'o ',
        w: 'ee',
      });
    });
  });

  it('a flush with nothing held emits nothing', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a---|', { a: 'one ' });
      const flush = hot('f-f-f', { f: 0 });
      expectObservable(source.pipe(textStage(words, { flush }))).toBe('-x---|', { x: 'one ' });
    });
  });

  it('controls that complete change nothing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-|', { a: 'one two' });
      expectObservable(source.pipe(textStage(words, { flush: EMPTY, clear: cold('|') }))).toBe('-x-(y|)', { x: 'one ', y: 'two' });
    });
  });

  it('runs a fresh stage per subscription', async () => {
    const stages: Holding[] = [];
    const create = () => {
      const stage = new Holding();
      stages.push(stage);
      return stage;
    };
    const tokens = new Subject<string>();
    const staged = tokens.pipe(textStage(create, {}));
    const first: string[] = [];
    const second: string[] = [];
    staged.subscribe((text) => first.push(text));
    tokens.next('only the first sees th');
    staged.subscribe((text) => second.push(text));
    tokens.next('is ');
    tokens.complete();
    expect(stages.length).toBe(2);
    expect(first).toEqual(['only the first sees ', 'this ']);
    expect(second).toEqual(['is ']);
    await expect(lastValueFrom(of('a b').pipe(textStage(create, {}), toArray()))).resolves.toEqual(['a ', 'b']);
    expect(stages.length).toBe(3);
  });
});

describe('stageOperator()', () => {
  it('wraps every piece, and emits the flush marker after what the flush released', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a---b-|', { a: 'one tw', b: 'o' });
      const flush = hot('---f----', { f: 0 });
      expectObservable(source.pipe(marked({ flush }))).toBe('-x-(yF)(zE|)', { x: '<one >', y: '<tw>', F: 'F', z: '<o>', E: 'E' });
    });
  });

  it('emits the clear marker after dropping the held text, and the end marker after the remainder', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a---b-|', { a: 'one tw', b: 'o' });
      const clear = hot('---c----', { c: 0 });
      expectObservable(source.pipe(marked({ clear }))).toBe('-x-C---(zE|)', { x: '<one >', C: 'C', z: '<o>', E: 'E' });
    });
  });

  it('emits a marker for each control emission, even with nothing held', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const flush = hot('-f-f-', { f: 0 });
      const clear = hot('--c--', { c: 0 });
      expectObservable(cold('-----|').pipe(marked({ flush, clear }))).toBe('-FCF-(E|)', { F: 'F', C: 'C', E: 'E' });
    });
  });

  it('emits only the markers it is given', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const flush = hot('-f--', { f: 0 });
      const clear = hot('--c-', { c: 0 });
      const source = cold('a--|', { a: 'x' });
      expectObservable(source.pipe(stageOperator(words, { flush, clear }, (text) => text, { clear: 'C' }))).toBe('-xC|', { x: 'x', C: 'C' });
    });
  });

  it('passes a source error on, the very same error, dropping what is held and emitting no end marker', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const failure = new Error('llm stream broke');
      const source = cold('-a-#', { a: 'kept dropped' }, failure);
      expectObservable(source.pipe(marked())).toBe('-x-#', { x: '<kept >' }, failure);
    });
  });
});

describe('release after a pause (releaseAfterMs)', () => {
  it(`releases an undecided end after ${DEFAULT_RELEASE_AFTER_MS} ms without a token by default`, () => {
    scheduler().run(({ cold, expectObservable }) => {
      expect(DEFAULT_RELEASE_AFTER_MS).toBe(150);
      const source = cold('a 1s b|', { a: 'Done.', b: ' Next' });
      expectObservable(source.pipe(textStage(words, {}))).toBe('150ms x 850ms y (z|)', { x: 'Done.', y: ' ', z: 'Next' });
    });
  });

  it('takes releaseAfterMs', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 1s |', { a: 'Done.' });
      expectObservable(source.pipe(textStage(words, { releaseAfterMs: 40 }))).toBe('40ms x 960ms |', { x: 'Done.' });
    });
  });

  it('counts the quiet time from the latest token that left the stage undecided', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 99ms b 1s |', { a: 'Wait.', b: '.' });
      expectObservable(source.pipe(textStage(words, {}))).toBe('250ms x 850ms |', { x: 'Wait..' });
    });
  });

  it('releases nothing once a token has decided the end, nor after a flush took it', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const decided = cold('a 99ms b 1s |', { a: 'Done.', b: 'x and' });
      expectObservable(decided.pipe(textStage(words, {}))).toBe('100ms x 1s (y|)', { x: 'Done.x ', y: 'and' });
      const flush = hot('-f', { f: 0 });
      const flushed = cold('a 1s |', { a: 'Done.' });
      expectObservable(flushed.pipe(textStage(words, { flush }))).toBe('-x 999ms |', { x: 'Done.' });
    });
  });

  it('releases again after each new pause', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 199ms b 499ms |', { a: 'One.', b: ' Two.' });
      expectObservable(source.pipe(textStage(words, { releaseAfterMs: 100 }))).toBe('100ms x 99ms y 99ms z 399ms |', {
        x: 'One.',
        y: ' ',
        z: 'Two.',
      });
    });
  });

  it('is not marked: a release is text, not a flush', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 200ms |', { a: 'Done.' });
      expectObservable(source.pipe(marked())).toBe('150ms x 50ms (E|)', { x: '<Done.>', E: 'E' });
    });
  });

  it('never fires after the subscription ends, by completion or by unsubscribing', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const stages: Holding[] = [];
      const create = () => {
        const stage = new Holding();
        stages.push(stage);
        return stage;
      };
      const source = cold('a 1s |', { a: 'Done.' });
      expectObservable(source.pipe(textStage(create, {})), '^ 100ms !').toBe('');
      expectObservable(cold('a|', { a: 'Done.' }).pipe(textStage(create, {}))).toBe('-(x|)', { x: 'Done.' });
      flush();
      expect(stages.map((stage) => stage.releases)).toEqual([0, 0]);
    });
  });
});

describe('subscriptions', () => {
  it('subscribes the controls before the source, so a synchronous source sees them', () => {
    const log: string[] = [];
    const flush = new Subject<void>();
    const source = new Observable<string>((subscriber) => {
      log.push('source');
      subscriber.next('one tw');
      flush.next();
      subscriber.next('o');
      subscriber.complete();
    });
    const clear = defer(() => (log.push('clear'), NEVER));
    const flushes = defer(() => (log.push('flush'), flush));
    const emitted: string[] = [];
    source.pipe(marked({ flush: flushes, clear })).subscribe((value) => emitted.push(value));
    expect(log.slice().sort()).toEqual(['clear', 'flush', 'source']);
    expect(log[2]).toBe('source');
    expect(emitted).toEqual(['<one >', '<tw>', 'F', '<o>', 'E']);
  });

  it('takes any ObservableInput as a control, acting on synchronous emissions before the first token', async () => {
    await expect(lastValueFrom(of('a b').pipe(marked({ flush: [1, 2], clear: of(0) }), toArray()))).resolves.toEqual([
      'C',
      'F',
      'F',
      '<a >',
      '<b>',
      'E',
    ]);
  });

  it('a token that is not a string ends the stream with an invalid-options RimeError', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold<unknown>('-a-b-c-|', { a: 'fine ', b: 42, c: 'never' });
      const flush = hot('-------');
      const expected = RimeError.invalidOptions(['the text source must emit strings, got a value of type number']);
      expectObservable((source as Observable<string>).pipe(textStage(words, { flush }))).toBe('-x-#', { x: 'fine ' }, expected);
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectSubscriptions(flush.subscriptions).toBe('^--!');
    });
  });

  it.each<[unknown, string]>([
    [null, 'null'],
    [undefined, 'a value of type undefined'],
    [['a'], 'an array'],
    [{ text: 'a' }, 'a value of type object'],
    [7, 'a value of type number'],
    [Symbol('s'), 'a value of type symbol'],
  ])('names the kind of a non-string token: %p -> %s', async (token, kind) => {
    const source = from(['ok', token]) as Observable<string>;
    const failure = await lastValueFrom(source.pipe(textStage(words, {}))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RimeError);
    expect(failure).toMatchObject({
      kind: 'invalid-options',
      retryable: false,
      issues: [`the text source must emit strings, got ${kind}`],
      message: `Invalid Rime options: the text source must emit strings, got ${kind}`,
    });
  });

  it('an error from a control ends the stream with that error and releases the source and the other control', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new Error('control broke');
      const source = cold('-a-----|', { a: 'text ' });
      const flush = hot('-------');
      const clear = hot('---#', undefined, failure);
      expectObservable(source.pipe(marked({ flush, clear }))).toBe('-x-#', { x: '<text >' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectSubscriptions(flush.subscriptions).toBe('^--!');
      expectSubscriptions(clear.subscriptions).toBe('^--!');
    });
  });

  it('an error from the flush control ends the stream too, even one thrown at subscription', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const failure = new Error('flush broke');
      expectObservable(cold('-a-|', { a: 'text' }).pipe(textStage(words, { flush: hot('--#', undefined, failure) }))).toBe('--#', undefined, failure);
      expectObservable(cold('-a-|', { a: 'text' }).pipe(textStage(words, { flush: throwError(() => failure) }))).toBe('#', undefined, failure);
    });
  });

  it('unsubscribing releases the source, every control and the release timer at once', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'One ', b: 'Two.', c: ' Three' });
      const flush = hot('-------');
      const clear = hot('-------');
      expectObservable(source.pipe(marked({ flush, clear })), '^---!').toBe('-x--', { x: '<One >' });
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectSubscriptions(flush.subscriptions).toBe('^---!');
      expectSubscriptions(clear.subscriptions).toBe('^---!');
    });
  });

  it('releases the controls when the source completes or errors', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const flush = hot('------');
      const clear = hot('------');
      expectObservable(cold('--|').pipe(textStage(words, { flush }))).toBe('--|');
      expectObservable(cold('---#').pipe(textStage(words, { clear }))).toBe('---#');
      expectSubscriptions(flush.subscriptions).toBe('^-!');
      expectSubscriptions(clear.subscriptions).toBe('^--!');
    });
  });

  it('leaves no real timer behind when unsubscribed while a release is pending', () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const tokens = new Subject<string>();
    const subscription = tokens.pipe(textStage(words, { releaseAfterMs: 60_000 })).subscribe();
    tokens.next('Done.');
    expect(timers()).toBe(before + 1);
    subscription.unsubscribe();
    expect(timers()).toBe(before);
    expect(tokens.observed).toBe(false);
  });

  it('leaves no real timer behind when the source completes while a release is pending', () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const tokens = new Subject<string>();
    const flush = new Subject<void>();
    const emitted: string[] = [];
    tokens.pipe(textStage(words, { flush, releaseAfterMs: 60_000 })).subscribe((text) => emitted.push(text));
    tokens.next('Done.');
    expect(timers()).toBe(before + 1);
    tokens.complete();
    expect(timers()).toBe(before);
    expect(flush.observed).toBe(false);
    expect(emitted).toEqual(['Done.']);
  });
});

describe('chainStages()', () => {
  /** Runs `act` with an emit that collects what it is given. */
  const collect = (act: (emit: Emit) => void): string[] => {
    const out: string[] = [];
    act((text) => out.push(text));
    return out;
  };

  it('writes what the first stage releases to the second', () => {
    const chain = chainStages(new Holding(' '), new Holding(','));
    expect(collect((emit) => chain.write('one, two thr', emit))).toEqual(['one,']);
    expect(collect((emit) => chain.write('ee, four', emit))).toEqual([' two three,']);
  });

  it('flush: the first stage flushes into the second, then the second flushes', () => {
    const chain = chainStages(new Holding(' '), new Holding(','));
    chain.write('one, two thr', () => undefined);
    expect(collect((emit) => chain.flush(emit))).toEqual([' two thr']);
    expect(collect((emit) => chain.flush(emit))).toEqual([]);
  });

  it('end: the first stage ends into the second, then the second ends', () => {
    const chain = chainStages(new Holding(' '), new Holding(','));
    chain.write('one, two thr', () => undefined);
    expect(collect((emit) => chain.end(emit))).toEqual([' two thr']);
  });

  it('the order of the calls: first, then second, each time', () => {
    const log: string[] = [];
    const logging = (name: string): TextStage => ({
      write: (token, emit) => (log.push(`${name}.write(${token})`), emit(`${name}${token}`)),
      flush: (emit) => (log.push(`${name}.flush`), emit(`${name}F`)),
      clear: () => log.push(`${name}.clear`),
      end: (emit) => (log.push(`${name}.end`), emit(`${name}E`)),
      undecided: false,
      release: (emit) => (log.push(`${name}.release`), emit(`${name}R`)),
    });
    const chain = chainStages(logging('1'), logging('2'));
    const out: string[] = [];
    const emit: Emit = (text) => out.push(text);
    chain.write('a', emit);
    chain.flush(emit);
    chain.clear();
    chain.release(emit);
    chain.end(emit);
    expect(log).toEqual([
      '1.write(a)',
      '2.write(1a)',
      '1.flush',
      '2.write(1F)',
      '2.flush',
      '1.clear',
      '2.clear',
      '1.release',
      '2.write(1R)',
      '2.release',
      '1.end',
      '2.write(1E)',
      '2.end',
    ]);
    expect(out).toEqual(['21a', '21F', '2F', '21R', '2R', '21E', '2E']);
  });

  it('clear drops what both stages hold', () => {
    const chain = chainStages(new Holding(' '), new Holding(','));
    chain.write('one, two thr', () => undefined);
    chain.clear();
    expect(collect((emit) => chain.end(emit))).toEqual([]);
  });

  it('is undecided while either stage is', () => {
    const first = new Holding(' ');
    const second = new Holding(',');
    const chain = chainStages(first, second);
    expect(chain.undecided).toBe(false);
    chain.write('Hi.', () => undefined);
    expect([first.undecided, second.undecided, chain.undecided]).toEqual([true, false, true]);
    chain.write(' ok', () => undefined);
    expect([first.undecided, second.undecided, chain.undecided]).toEqual([false, true, true]);
    chain.write(', ', () => undefined);
    expect([first.undecided, second.undecided, chain.undecided]).toEqual([false, false, false]);
  });

  it('release: the first stage releases into the second, then the second releases', () => {
    const chain = chainStages(new Holding(' '), new Holding(','));
    chain.write('a, b c.', () => undefined);
    expect(collect((emit) => chain.release(emit))).toEqual([' b c.']);
    expect(chain.undecided).toBe(false);
  });

  it('in stageOperator, a release waits on the second stage too', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 1s |', { a: 'Hi. ok' });
      const chained = () => chainStages(new Holding(' '), new Holding(','));
      expectObservable(source.pipe(textStage(chained, {}))).toBe('150ms x 850ms |', { x: 'Hi. ok' });
    });
  });
});

describe('stageOperator() after the stream failed', () => {
  it('a control that fails at once: the source is never subscribed', () => {
    let subscribed = 0;
    const source = new Observable<string>((subscriber) => {
      subscribed++;
      subscriber.next('a ');
      subscriber.complete();
    });
    const stage = new Holding();
    const errors: unknown[] = [];
    source.pipe(textStage(() => stage, { flush: throwError(() => new Error('control failed')) })).subscribe({ error: (error) => errors.push(error) });
    expect(subscribed).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('a token that is not a string: nothing after it is written to the stage, and the end is not run', () => {
    const stage = new Holding();
    const written: string[] = [];
    const write = stage.write.bind(stage);
    stage.write = (token, emit) => {
      written.push(token);
      write(token, emit);
    };
    const ends = jest.spyOn(stage, 'end');
    const source = of('a ', 7, 'b ', 'c ') as Observable<unknown> as Observable<string>;
    source.pipe(textStage(() => stage, {})).subscribe({ error: () => {} });
    expect(written).toEqual(['a ']);
    expect(ends).not.toHaveBeenCalled();
  });
});
