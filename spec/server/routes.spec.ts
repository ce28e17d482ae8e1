import { jsonWire } from '../../lib/protocol/json';
import { plainWire } from '../../lib/protocol/plain';
import { ROUTES, routesHint } from '../../lib/server/routes';

describe('server routes', () => {
  it("serves Rime's plain protocol on /ws and its JSON protocol on /ws3, with the wires themselves", () => {
    expect(ROUTES.get('/ws')).toBe(plainWire);
    expect(ROUTES.get('/ws3')).toBe(jsonWire);
  });

  it('serves exactly these paths, in this order, each on the path its wire names', () => {
    expect([...ROUTES.keys()]).toEqual(['/ws', '/ws3']);
    for (const [path, wire] of ROUTES) expect(wire.path).toBe(path);
  });

  it('a path matches exactly: no prefix, trailing slash, case or query', () => {
    for (const path of ['/', '', '/w', '/ws/', '/WS', '/ws3/', '/ws?speaker=cove', '/v1/ws', 'ws', '/ws2']) expect(ROUTES.get(path)).toBeUndefined();
  });

  it('the hint for a path that serves nothing names the paths that do', () => {
    expect(routesHint()).toBe('/ws or /ws3');
  });
});
