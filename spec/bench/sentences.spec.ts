import { benchSentences, prose } from '../../bench/sentences';

describe('the sentences() benchmark', () => {
  it('generates the requested amount of prose, deterministically', () => {
    const text = prose(5000);
    expect(text.length).toBeGreaterThanOrEqual(5000);
    expect(text.length).toBeLessThan(7000);
    expect(prose(5000)).toBe(text);
  });

  it('still runs (quick mode) and reports its figures beside the baseline', async () => {
    const section = await benchSentences({ quick: true });
    expect(section.markdown).toMatch(/tokens\/s.*naive splitter's speed/);
    expect(section.markdown.match(/^\| (1x|2x|4x|long sentences) /gm)).toHaveLength(4);
  });
});
