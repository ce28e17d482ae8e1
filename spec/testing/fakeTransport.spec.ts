import { TestScheduler } from 'rxjs/testing';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import type { ClientMessage } from '../../lib/protocol/messages';
import type { TransportEvent } from '../../lib/transport/transport';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const request = { url: new URL('ws://fake/ws'), apiKey: 'k', handshakeTimeoutMs: 1000 };

describe('FakeTransport', () => {
  it('records each connection, the frames sent with their time, and hands sent frames to onFrame', () => {
    scheduler().run(({ cold, flush }) => {
      const heard: ClientMessage[] = [];
      const fake = new FakeTransport((connection) => connection.open((message) => heard.push(message)));
      const events: TransportEvent[] = [];
      fake.transport(request).subscribe((event) => {
        events.push(event);
        if (event.type === 'open') cold('--s').subscribe(() => event.send('Hi.'));
      });
      flush();
      expect(fake.connections[0]?.sent).toEqual([{ time: 2, frame: 'Hi.' }]);
      expect(fake.connections[0]?.messages).toEqual([{ type: 'text', text: 'Hi.' }]);
      expect(heard).toEqual([{ type: 'text', text: 'Hi.' }]);
      expect(fake.connections[0]?.live).toBe(true);
    });
  });

  it('while the client is paused, audio and the close wait, as TCP holds them, and arrive in order on resume', () => {
    const fake = new FakeTransport((connection) => connection.open());
    const events: string[] = [];
    let open: Extract<TransportEvent, { type: 'open' }> | undefined;
    fake.transport(request).subscribe({
      next: (event) => {
        if (event.type === 'open') open = event;
        events.push(event.type === 'frame' ? `frame ${typeof event.frame === 'string' ? event.frame : new TextDecoder().decode(event.frame)}` : event.type);
      },
      complete: () => events.push('complete'),
    });
    const connection = fake.connections[0];
    open?.pause?.();
    connection?.audio('a');
    connection?.audio('b');
    connection?.close(1000);
    expect(events).toEqual(['open']);
    expect(connection?.unreadBytes).toBe(2);
    expect(connection?.live).toBe(false); // the server has ended it, though the client has not heard yet
    open?.resume?.();
    expect(events).toEqual(['open', 'frame a', 'frame b', 'close', 'complete']);
  });

  it('unsubscribing is a close by the client, with its time', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = new FakeTransport((connection) => connection.open());
      const subscription = fake.transport(request).subscribe();
      cold('---x').subscribe(() => subscription.unsubscribe());
      flush();
      expect(fake.connections[0]?.closedByClientAt).toBe(3);
      expect(fake.connections[0]?.live).toBe(false);
    });
  });
});
