/**
 * An LLM-like token stream spoken into a WAV file, sentence by sentence as the tokens arrive.
 *
 *   npx tsx examples/llm-to-file.ts [out.wav]
 *
 * With RIME_API_KEY set it uses Rime; without it, the local server from rime-rx/server (real speech, no network).
 */
import { rimeTts } from 'rime-rx';
import { writeAudioFile } from 'rime-rx/audio';
import { createRimeServer } from 'rime-rx/server';
import { llmTokens } from 'rime-rx/testing';
import { from, concatMap, delay, of } from 'rxjs';

const answer =
  'Sure! The quickest way to get there is by train, which takes about 40 minutes. ' +
  'Trains leave every 15 minutes, e.g. at 9:15 and 9:30. Would you like the timetable?';

/** Tokens of 1 to 8 characters, 5 ms apart, the way an LLM streams them. */
function fakeLlm(text: string) {
  return from(llmTokens(text, { seed: 42 })).pipe(concatMap((token) => of(token).pipe(delay(5))));
}

export async function main(output = 'answer.wav', voice: 'espeak' | 'test' = 'espeak'): Promise<number> {
  const server = process.env['RIME_API_KEY'] ? undefined : await createRimeServer({ voice, log: () => {} });
  try {
    const speech = fakeLlm(answer).pipe(
      rimeTts({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 24000, ...(server ? { url: server.url, apiKey: 'local' } : {}) }),
    );
    const bytes = await writeAudioFile(speech, output, { wav: { samplingRate: 24000 } });
    console.log(`wrote ${output}: ${(bytes / 2 / 24000).toFixed(1)} s of audio`);
    return bytes;
  } finally {
    await server?.close();
  }
}

if (require.main === module) void main(process.argv[2]);
