import { from, lastValueFrom, of, toArray } from 'rxjs';
import { FakeTransport } from '../lib/testing/fakeTransport';
import { safeText } from '../lib/text/safety';
import { sentences } from '../lib/text/sentences';
import { rimeTts } from '../lib/tts/rimeTts';
import { type BenchOptions, type Section, format, timeRuns } from './harness';

/** An adversarial input at `scale` times its base size, and the work done on it (synchronous). */
interface Case {
  readonly name: string;
  readonly unit: string;
  readonly base: number;
  readonly run: (size: number) => void;
}

const drain = (work: Promise<unknown>) => void work;

const cases: readonly Case[] = [
  {
    name: '`safeText()`: `"<"` then tokens `"ab"` (a tag run that never closes)',
    unit: 'tokens',
    base: 100_000,
    run: (size) => drain(lastValueFrom(from(['<', ...Array<string>(size).fill('ab')]).pipe(safeText(), toArray()))),
  },
  {
    name: '`safeText()`: `"<"` repeated (tags nested without end)',
    unit: 'tokens',
    base: 100_000,
    run: (size) => drain(lastValueFrom(from(Array<string>(size).fill('<')).pipe(safeText(), toArray()))),
  },
  {
    name: '`sentences()`: one token without whitespace or punctuation',
    unit: 'characters',
    base: 250_000,
    run: (size) => drain(lastValueFrom(of('a'.repeat(size)).pipe(sentences(), toArray()))),
  },
  {
    name: '`sentences()`: one token of words without punctuation',
    unit: 'characters',
    base: 250_000,
    run: (size) => drain(lastValueFrom(of('word '.repeat(size / 5)).pipe(sentences(), toArray()))),
  },
  {
    name: '`rimeTts()`: one token without whitespace (fake transport)',
    unit: 'characters',
    base: 1_000_000,
    run: (size) => {
      const fake = new FakeTransport((connection) => connection.open());
      of('x'.repeat(size)).pipe(rimeTts({ speaker: 'cove', apiKey: 'bench', transport: fake.transport })).subscribe().unsubscribe();
    },
  },
];

/** Time on adversarial inputs at 1x, 2x and 4x their size: linear work doubles with the input, quadratic quadruples. */
export async function benchLinearity(options: BenchOptions): Promise<Section> {
  const repeats = options.quick ? 1 : 7;
  const scales = [1, 2, 4];
  const rows = cases.map((entry) => {
    const base = options.quick ? entry.base / 10 : entry.base;
    const times = scales.map((scale) => timeRuns(repeats, () => entry.run(base * scale)).median);
    const first = times[0] ?? 1;
    return (
      `| ${entry.name} | ${format.int(base)} ${entry.unit} | ${times.map((ms) => `${format.fixed(ms, 1)} ms`).join(' | ')} | ` +
      `**${times.map((ms) => `${format.fixed(ms / first, 1)}x`).join(' / ')}** |`
    );
  });
  return {
    title: 'Linear time on adversarial text',
    markdown: [
      `Median of ${repeats} runs (after a warm-up) at 1x, 2x and 4x the size; the last column is each time over the 1x time, so`,
      'linear work reads about 1x / 2x / 4x and quadratic work 1x / 4x / 16x.',
      '',
      '| input | 1x size | 1x | 2x | 4x | time against 1x |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  };
}
