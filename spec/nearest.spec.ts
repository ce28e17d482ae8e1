import { editDistance, nearest } from '../lib/nearest';

describe('editDistance()', () => {
  it.each([
    ['', '', 0],
    ['cove', 'cove', 0],
    ['cove', 'Cove', 0],
    ['cov', 'cove', 1],
    ['sampleRate', 'samplingRate', 3],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('%j ~ %j = %d', (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe('nearest()', () => {
  const names = ['storm', 'stone', 'stream', 'summit', 'cove', 'creek'];

  it('orders by distance, then name, and stops at the limit', () => {
    expect(nearest('ston', names)).toEqual(['stone', 'storm']);
    expect(nearest('ston', names, 1)).toEqual(['stone']);
  });

  it('offers nothing when nothing is close', () => {
    expect(nearest('zzzzzzzz', names)).toEqual([]);
  });
});
