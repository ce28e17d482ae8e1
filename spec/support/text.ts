import type { SynthesisRequest } from '../../lib/server/voices/voice';

/** `text` cut into tokens of the given sizes, cycling through them: a tokenization a property test can vary. */
export function tokenize(text: string, sizes: readonly number[]): string[] {
  const tokens: string[] = [];
  for (let start = 0, index = 0; start < text.length; index++) {
    const size = sizes[index % sizes.length] ?? 1;
    tokens.push(text.slice(start, start + size));
    start += size;
  }
  return tokens;
}

/** A synthesis request with the connection defaults, for testing voices directly. */
export function synthesisRequest(text: string, overrides: Partial<SynthesisRequest> = {}): SynthesisRequest {
  return {
    text,
    lang: 'eng',
    speaker: 'cove',
    speedAlpha: 1,
    samplingRate: 22050,
    pauseBetweenBrackets: false,
    phonemizeBetweenBrackets: false,
    ...overrides,
  };
}
