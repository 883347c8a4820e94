// The coordinator's heartbeats (launcher/coordinator.ts) count unanswered pings, not milliseconds:
// a coordinator that gets no CPU for many intervals does not take its own stall for its ranks', and
// a rank that stops answering is still reported after --heartbeat-misses pings.
import t from 'tap';
import { Coordinator } from '../../launcher/coordinator.ts';
import { Party } from '../../runtime/protocol/handshake.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import { dial, type WebSocket } from '../../runtime/protocol/ws-dial.ts';

const heartbeatMs = 20;
const misses = 3;

/** Resolves once `check()` holds, looking every 10 ms; fails after `limitMs` (generous: a loaded machine). */
async function until(what: string, check: () => boolean, limitMs = 30_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

t.test('a stalled coordinator declares no rank lost; a rank that stops answering is', async (t) => {
  const key = randomKey();
  const hung: Array<{ rank: number; silentMs: number }> = [];
  const coordinator = await Coordinator.start(
    { jobId: 'heartbeat', key, size: 1, heartbeatMs, heartbeatMisses: misses },
    { hello: () => {}, done: () => {}, abort: () => {}, warn: () => {}, hung: (rank, silentMs) => hung.push({ rank, silentMs }) },
  );
  t.teardown(() => coordinator.close());
  // Rank 0's control connection, in this process: ws answers each ping from this event loop.
  const socket = await new Promise<WebSocket>((resolve, reject) =>
    dial(
      { url: coordinator.url, hello: { purpose: 'control', jobId: 'heartbeat', from: Party.rank(0), to: Party.coordinator }, key },
      { open: resolve, fail: reject },
    ),
  );
  t.teardown(() => socket.terminate());
  let pings = 0;
  socket.on('ping', () => pings++);
  await until('the first pings', () => pings >= 2);

  // The whole process, coordinator included, gets no CPU for 25 intervals (as on a loaded machine).
  const stallUntil = performance.now() + 25 * heartbeatMs;
  while (performance.now() < stallUntil);
  const after = pings;
  await until('pings go on after the stall', () => pings >= after + 2 * misses);
  t.same(hung, [], "no rank declared hung for the coordinator's own stall");

  // Now the rank stops reading its socket: its pings go unanswered.
  socket.pause();
  await until('the silent rank is reported', () => hung.length > 0);
  t.equal(hung[0].rank, 0, 'rank 0 is reported');
  t.ok(hung[0].silentMs >= misses * heartbeatMs, `after ${misses} unanswered pings (${hung[0].silentMs} ms of silence)`);
});
