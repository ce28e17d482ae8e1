/**
 * A voice-agent turn loop: the assistant answers, the user barges in halfway through the second answer, and the
 * assistant stops at once (no stale audio) and answers the interruption. `flush` marks the end of each turn.
 *
 *   npx tsx examples/voice-agent.ts
 */
import { rimeTts, type RimeEvent } from 'rime-rx';
import { createRimeServer } from 'rime-rx/server';
import { decodeTestSpeech } from 'rime-rx/testing';
import { Subject, lastValueFrom, toArray } from 'rxjs';

export interface TurnLog {
  /** What the listener heard, decoded from the test voice's audio (so the example can check itself). */
  readonly heard: string;
  readonly events: readonly RimeEvent['type'][];
}

export async function main(): Promise<TurnLog> {
  // The test voice speaks 60 ms a character; a real-time factor of 0.05 paces it 20x faster than real time.
  const server = await createRimeServer({ voice: 'test', realTimeFactor: 0.05, log: () => {} });
  const llm = new Subject<string>();
  const endOfTurn = new Subject<void>();
  const userStartedSpeaking = new Subject<void>();
  const events: RimeEvent['type'][] = [];
  try {
    const audio = lastValueFrom(
      llm.pipe(
        rimeTts({
          speaker: 'cove',
          audioFormat: 'pcm',
          url: server.url,
          apiKey: 'local',
          flush: endOfTurn,
          clear: userStartedSpeaking,
          events: { next: (event) => events.push(event.type) },
        }),
        toArray(),
      ),
    );
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    llm.next('Hello! How can I help you today? ');
    endOfTurn.next(); // the LLM is done: speak the unfinished sentence now
    await wait(300);

    llm.next('Our opening hours are nine to five on weekdays, and on Saturdays we open at ten, ');
    llm.next('but on Sundays and public holidays we stay closed all day long');
    await wait(120);
    userStartedSpeaking.next(); // barge-in, mid-sentence: the rest of that answer must never be heard

    llm.next(' Of course, go ahead.');
    endOfTurn.next();
    llm.complete();

    const heard = decodeTestSpeech(Buffer.concat(await audio)).text;
    console.log(`heard: ${heard}`);
    console.log(`events: ${events.join(', ')}`);
    return { heard, events };
  } finally {
    await server.close();
  }
}

if (require.main === module) void main();
