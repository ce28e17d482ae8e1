/** Edit distance (insertions, deletions, substitutions), case-insensitive: enough for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/**
 * The candidates closest to `word`, best first, at most `limit` of them, and only those close enough to be a
 * plausible typo (within a third of the longer word, at least 2 edits) or that share a prefix of 3+ characters.
 */
export function nearest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = word.toLowerCase();
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    const tolerance = Math.max(2, Math.floor(Math.max(word.length, candidate.length) / 3));
    const sharesPrefix = lower.length >= 3 && candidate.toLowerCase().startsWith(lower.slice(0, 3));
    if (distance <= tolerance || sharesPrefix) scored.push({ candidate, distance });
  }
  return scored
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map((entry) => entry.candidate);
}
