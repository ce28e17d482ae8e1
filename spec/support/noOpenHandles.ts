/**
 * Fails a test file that leaves sockets, servers or timers behind: the resource counts after every hook of the file
 * has run (polled briefly, since a closed socket is released on a later tick) must not exceed those before it.
 */
const watched = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'PipeWrap', 'ProcessWrap']);

function counts(): Map<string, number> {
  const result = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (watched.has(kind)) result.set(kind, (result.get(kind) ?? 0) + 1);
  }
  return result;
}

function excess(baseline: Map<string, number>): string[] {
  return [...counts()].filter(([kind, count]) => count > (baseline.get(kind) ?? 0)).map(([kind, count]) => `${kind} x${count - (baseline.get(kind) ?? 0)}`);
}

const baseline = counts();

afterAll(async () => {
  for (let attempt = 0; attempt < 100 && excess(baseline).length > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(excess(baseline)).toEqual([]);
});
