import { prose } from '../../bench/sentences';

describe('the sentences() benchmark', () => {
  it('generates the requested amount of prose, deterministically', () => {
    const text = prose(5000);
    expect(text.length).toBeGreaterThanOrEqual(5000);
    expect(text.length).toBeLessThan(7000);
    expect(prose(5000)).toBe(text);
  });
});
