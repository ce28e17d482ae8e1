import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { rimeConnection } from '../../lib/tts/rimeConnection';

const TURNS = 10_000;
/** Uses at once, each on a warm connection of its own: the pool keeps as many. */
const LANES = 8;
/** How a turn ends: spoken to its end, cut off by its subscriber mid-audio, interrupted and spoken on, or left before its text. */
const endings = ['spoken', 'spoken', 'spoken', 'spoken', 'spoken', 'unsubscribed mid-audio', 'interrupted', 'left before its text'] as const;
type Ending = (typeof endings)[number];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe.each(['ws', 'ws3'] as const)('a warm connection through 10,000 turns, ended every way (protocol %s)', (protocol) => {
  let server: RimeServer;
  let upgrades = 0;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, maxConnections: 100_000, realTimeFactor: 0.01 });
    server.events.subscribe((event) => event.type === 'open' && upgrades++);
  });
  afterAll(() => server.close());

  it(`${TURNS} turns: each spoken whole or cut, no socket left on the server, no handle, no heap growth beyond noise`, async () => {
    const rime = rimeConnection({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 8000, apiKey: 'soak', url: server.urls[protocol], protocol, warm: LANES });
    const counts = Object.fromEntries(endings.map((ending) => [ending, 0])) as Record<Ending, number>;
    let misheard = 0;
    const turn = async (index: number) => {
      const ending = endings[index % endings.length] ?? 'spoken';
      counts[ending]++;
      const said = `Is this turn ${index}?`;
      const text = new Subject<string>();
      const clear = new Subject<void>();
      if (ending === 'spoken' || ending === 'interrupted') {
        const audio = lastValueFrom(text.pipe(rime.tts({ clear }), toArray()));
        if (ending === 'interrupted') {
          text.next('Never heard, ');
          clear.next();
        }
        text.next(said);
        text.complete();
        const heard = decodeTestSpeech(Buffer.concat(await audio)).text;
        // An interruption may leave a word of the old text that was already on its way: the turn's text must end it.
        if (ending === 'spoken' ? heard !== said : !heard.endsWith(said)) misheard++;
        return;
      }
      let audio!: () => void;
      const audioCame = new Promise<void>((resolve) => (audio = resolve));
      const subscription = text.pipe(rime.tts()).subscribe({ next: () => audio(), error: () => {} });
      if (ending === 'left before its text') return subscription.unsubscribe();
      text.next(`${said} `); // followed by a space: the sentence goes at once, while more may come
      await audioCame;
      subscription.unsubscribe();
    };

    const warmUp = 400;
    for (let index = 0; index < warmUp; index += LANES) await Promise.all(Array.from({ length: LANES }, (_, lane) => turn(index + lane)));
    await settled(server, rime.size);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const upgradesBefore = upgrades;
    for (let index = warmUp; index < TURNS; index += LANES) await Promise.all(Array.from({ length: LANES }, (_, lane) => turn(index + lane)));
    await settled(server, rime.size);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const measured = TURNS - warmUp;
    const opened = upgrades - upgradesBefore;
    rime.close();
    await settled(server, 0);
    expect(misheard).toBe(0);
    expect(server.connectionCount).toBe(0);
    expect(rime.size).toBe(0);
    expect(heapGrowth).toBeLessThan(8 * 2 ** 20);
    // On /ws3 a turn spoken to its end, or left before it said anything, hands its connection back: only the turns
    // cut short (unsubscribed mid-audio, interrupted) cost one.
    const cut = (measured * 2) / endings.length;
    if (protocol === 'ws3') expect(opened).toBeLessThanOrEqual(cut + LANES);
    process.stdout.write(
      `warm connection (${protocol}): ${TURNS} turns (${endings.filter((each, at) => endings.indexOf(each) === at).map((ending) => `${counts[ending]} ${ending}`).join(', ')}); ` +
        `${opened} connections opened for the last ${measured} turns; misheard ${misheard}; server connections left ${server.connectionCount}; ` +
        `heap growth ${(heapGrowth / 2 ** 20).toFixed(2)} MiB\n`,
    );
  }, 240_000);
});

/** Waits (up to 5 s) until the server holds no more connections than the pool keeps warm: closes arrive a moment later. */
async function settled(server: RimeServer, warm: number): Promise<void> {
  for (let waited = 0; waited < 5000 && server.connectionCount > warm; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
