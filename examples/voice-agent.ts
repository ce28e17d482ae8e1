/**
 * A voice agent: each of the assistant's replies is an LLM token stream; rimeTurns speaks them in order, one turn
 * each, on one warm connection (Rime's JSON protocol). The user barges in halfway through the second reply: the
 * agent stops at once (no stale audio, none of that reply's later tokens), learns which words the user heard, cuts
 * its transcript to them, and answers the interruption.
 *
 *   npx tsx examples/voice-agent.ts
 */
import { type Interruption, type TurnEvent, rimeTurns } from 'rime-rx';
import { createRimeServer } from 'rime-rx/server';
import { decodeTestSpeech } from 'rime-rx/testing';
import { Subject, from, map } from 'rxjs';

export interface Conversation {
  /** What the listener heard, decoded from the test voice's audio (so the example can check itself). */
  readonly heard: string;
  /** The assistant's side of the transcript, each reply cut to what was heard when it was interrupted. */
  readonly transcript: readonly string[];
  readonly events: readonly string[];
}

/** An LLM's reply, as the tokens it streams. */
const tokens = (reply: string) => reply.split(/(?<= )/);

export async function main(): Promise<Conversation> {
  // The test voice speaks 60 ms a character; a real-time factor of 0.05 paces it 20x faster than real time.
  const server = await createRimeServer({ voice: 'test', realTimeFactor: 0.05, log: () => {} });
  const replies = new Subject<readonly string[]>();
  const bargeIn = new Subject<Interruption>();
  const audio: Buffer[] = [];
  const transcript: string[] = [];
  const events: string[] = [];
  const played = new Map<number, number>(); // a player's position in each turn's audio: here, all of it emitted
  try {
    const conversation = new Promise<void>((resolve, reject) =>
      replies
        .pipe(
          map((reply) => from(reply)),
          rimeTurns({ speaker: 'cove', audioFormat: 'pcm', protocol: 'ws3', url: server.urls.ws3, apiKey: 'local', clear: bargeIn }),
        )
        .subscribe({
          next: (event: TurnEvent) => {
            if (event.type === 'audio') {
              audio.push(Buffer.from(event.bytes));
              played.set(event.turn, (played.get(event.turn) ?? 0) + (event.bytes.length / 2 / 22050) * 1000);
              return;
            }
            if (event.type === 'words') return; // what an agent would show as captions
            events.push(`${event.type} ${event.turn}`);
            if (event.type === 'interrupted') transcript[event.turn] = `${event.heard ?? ''}…`;
            if (event.type === 'done') console.log(`turn ${event.turn}: first audio after ${event.metrics.firstAudioMs} ms, reused ${event.metrics.connectionReused}`);
          },
          complete: resolve,
          error: reject,
        }),
    );
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const say = (reply: string) => {
      transcript.push(reply);
      replies.next(tokens(reply));
    };

    say('Hello! How can I help you today?');
    await wait(300);
    say('Our opening hours are nine to five on weekdays, and on Saturdays we open at ten, but on Sundays we stay closed.');
    await wait(150);
    bargeIn.next({ playedMs: played.get(1) ?? 0 }); // the user speaks: the rest of that reply must never be heard
    say('Of course, go ahead.');
    replies.complete();
    await conversation;

    const heard = decodeTestSpeech(Buffer.concat(audio)).text;
    console.log(`heard: ${heard}`);
    console.log(`transcript: ${JSON.stringify(transcript)}`);
    return { heard, transcript, events };
  } finally {
    await server.close();
  }
}

if (require.main === module) void main();
