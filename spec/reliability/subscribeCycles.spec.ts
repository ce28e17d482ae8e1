import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { rimeTts } from '../../lib/tts/rimeTts';

const CYCLES = 10_000;
/** Where in its life a subscription is cut. */
const moments = ['before open', 'after open', 'mid-audio', 'after <EOS>'] as const;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe.each(['ws', 'ws3'] as const)('subscribe and unsubscribe at random moments (protocol %s)', (protocol) => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, maxConnections: 100_000, realTimeFactor: 0.01 });
  });
  afterAll(() => server.close());

  it(`${CYCLES} cycles leave no sockets on the server, no handles and no heap growth beyond noise`, async () => {
    const counts: Record<(typeof moments)[number], number> = { 'before open': 0, 'after open': 0, 'mid-audio': 0, 'after <EOS>': 0 };
    const cycle = async (index: number) => {
      const moment = moments[index % moments.length] ?? 'before open';
      counts[moment]++;
      const text = new Subject<string>();
      let opened!: () => void;
      let audio!: () => void;
      const openedNow = new Promise<void>((resolve) => (opened = resolve));
      const audioNow = new Promise<void>((resolve) => (audio = resolve));
      const subscription = text
        .pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', samplingRate: 8000, apiKey: 'cycles', url: server.urls[protocol], protocol, events: { next: (event) => event.type === 'open' && opened() } }))
        .subscribe({ next: () => audio(), error: () => {} });
      if (moment === 'before open') return subscription.unsubscribe();
      await openedNow;
      if (moment === 'after open') return subscription.unsubscribe();
      text.next(`Cycle ${index} says something, then more.`);
      if (moment === 'after <EOS>') text.complete();
      await audioNow;
      subscription.unsubscribe();
    };

    const warmUp = 200;
    for (let index = 0; index < warmUp; index++) await cycle(index);
    await settled(server);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let index = warmUp; index < CYCLES; index += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, offset) => cycle(index + offset)));
    }
    await settled(server);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(server.connectionCount).toBe(0);
    expect(heapGrowth).toBeLessThan(8 * 2 ** 20);
    process.stdout.write(
      `subscribe/unsubscribe: ${CYCLES} cycles (${moments.map((moment) => `${counts[moment]} ${moment}`).join(', ')}); ` +
        `server connections left: ${server.connectionCount}; heap growth ${(heapGrowth / 2 ** 20).toFixed(2)} MiB\n`,
    );
  }, 120_000);
});

/** Waits (up to 5 s) until the server has seen every connection close: client closes arrive a moment later. */
async function settled(server: RimeServer): Promise<void> {
  for (let waited = 0; waited < 5000 && server.connectionCount > 0; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
