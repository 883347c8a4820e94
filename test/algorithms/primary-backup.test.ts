// Primary-backup replication (Coulouris 18.3): pure replica steps, then client histories checked for
// linearizability (kvModel) across seeds with a primary crash, and the broken variants caught.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate, type FaultOptions } from 'dsmpi';
import {
  checkKvHistory,
  primaryBackupMain,
  startReplica,
  stepReplica,
  Tag,
  toOperations,
  type HistoryEvent,
  type PrimaryBackupOptions,
  type PrimaryBackupOutcome,
} from '../../algorithms/replication/primary-backup.ts';
import { defaultPrimaryBackupOptions } from '../../algorithms/replication/primary-backup.ts';
import type { Input } from '../../algorithms/common/serve.ts';
import { forEachSeed } from '../helpers/run-ranks.ts';

const msg = (source: number, tag: number, data: unknown, nowMs = 1): Input => ({
  type: 'message',
  source,
  tag,
  data,
  nowMs,
  random: 0.5,
});
const tick = (nowMs: number, failed: number[] = []): Input => ({
  type: 'tick',
  nowMs,
  random: 0.5,
  failed,
});
const o = defaultPrimaryBackupOptions;

t.test('primary: a write is answered only after every live backup acknowledged it', async (t) => {
  const p = startReplica(0, 5, 0, o);
  const [, out] = stepReplica(p, msg(3, Tag.Request, { seq: 1, op: { f: 'put', key: 'x', value: 'a' } }));
  t.same(
    out.map((m) => [m.to, m.tag]),
    [
      [1, Tag.Update],
      [2, Tag.Update],
    ],
    'state to both backups, no reply yet',
  );
  t.same(stepReplica(p, msg(1, Tag.UpdateAck, { version: 1 }))[1], []);
  t.same(stepReplica(p, msg(2, Tag.UpdateAck, { version: 1 }))[1], [{ to: 3, tag: Tag.Reply, data: { seq: 1, value: null } }]);
  t.same(
    stepReplica(p, msg(3, Tag.Request, { seq: 1, op: { f: 'put', key: 'x', value: 'a' } }))[1],
    [{ to: 3, tag: Tag.Reply, data: { seq: 1, value: null } }],
    'a retry is answered from the table, not applied twice',
  );
  t.equal(p.version, 1);
  const [, get] = stepReplica(p, msg(4, Tag.Request, { seq: 1, op: { f: 'get', key: 'x' } }));
  t.same(get, [{ to: 4, tag: Tag.Reply, data: { seq: 1, value: 'a' } }]);
  // A backup that dies is not waited for.
  stepReplica(
    p,
    msg(3, Tag.Request, {
      seq: 2,
      op: { f: 'append', key: 'x', value: 'b' },
    }),
  );
  stepReplica(p, msg(1, Tag.UpdateAck, { version: 2 }));
  t.same(
    stepReplica(p, tick(10, [2]))[1].filter((m) => m.tag === Tag.Reply),
    [{ to: 3, tag: Tag.Reply, data: { seq: 2, value: null } }],
  );
  t.same(p.store, { x: 'ab' });
});

t.test('backup: refuses clients, ignores a replaced primary, takes over when the primary is lost', async (t) => {
  const b = startReplica(1, 5, 0, o);
  t.same(stepReplica(b, msg(3, Tag.Request, { seq: 1, op: { f: 'get', key: 'x' } }))[1], [
    { to: 3, tag: Tag.NotPrimary, data: { seq: 1, primary: 0 } },
  ]);
  stepReplica(
    b,
    msg(0, Tag.Update, {
      view: 0,
      version: 4,
      store: { x: 'a' },
      lastReply: {},
    }),
  );
  t.same(b.store, { x: 'a' });
  const [, takeover] = stepReplica(b, tick(10, [0]));
  t.same(
    takeover.map((m) => [m.to, m.tag]),
    [[2, Tag.Update]],
    'its state to the remaining backup first',
  );
  t.equal(b.view, 1);
  t.same(stepReplica(b, msg(3, Tag.Request, { seq: 1, op: { f: 'get', key: 'x' } }))[1], [], 'not served before the sync is acknowledged');
  t.same(stepReplica(b, msg(2, Tag.UpdateAck, { version: 5 }))[1], [{ to: 3, tag: Tag.Reply, data: { seq: 1, value: 'a' } }]);
  const c = startReplica(2, 5, 0, o);
  stepReplica(
    c,
    msg(1, Tag.Update, {
      view: 1,
      version: 5,
      store: { x: 'a' },
      lastReply: {},
    }),
  );
  stepReplica(
    c,
    msg(0, Tag.Update, {
      view: 0,
      version: 9,
      store: { x: 'stale' },
      lastReply: {},
    }),
  );
  t.same(c.store, { x: 'a' }, "the dead primary's late update is ignored");
});

t.test('history → operations: ok, info (indefinite) and fail (left out)', async (t) => {
  const h: HistoryEvent[] = [
    { process: 3, type: 'invoke', f: 'put', key: 'x', value: 'a', timeMs: 0 },
    { process: 3, type: 'ok', f: 'put', key: 'x', value: 'a', timeMs: 2 },
    {
      process: 4,
      type: 'invoke',
      f: 'append',
      key: 'x',
      value: 'b',
      timeMs: 1,
    },
    {
      process: 4,
      type: 'info',
      f: 'append',
      key: 'x',
      value: 'b',
      timeMs: 9,
    },
    {
      process: 3,
      type: 'invoke',
      f: 'get',
      key: 'x',
      value: null,
      timeMs: 3,
    },
    { process: 3, type: 'ok', f: 'get', key: 'x', value: 'ab', timeMs: 4 },
    { process: 5, type: 'invoke', f: 'put', key: 'x', value: 'z', timeMs: 5 },
    { process: 5, type: 'fail', f: 'put', key: 'x', value: 'z', timeMs: 6 },
  ];
  const ops = toOperations(h);
  t.equal(ops.length, 3);
  t.equal(ops.find((x) => x.client === 4)!.ret, Infinity);
  t.equal(checkKvHistory(h).verdict, 'linearizable', 'the indefinite append took effect');
  h[5] = { ...h[5], value: 'z' };
  t.equal(checkKvHistory(h).verdict, 'not-linearizable', 'a failed put cannot be read');
});

const REPLICAS = 3;
async function history(
  seed: number,
  faults: FaultOptions,
  options: Partial<PrimaryBackupOptions>,
  n = 6,
): Promise<{
  events: HistoryEvent[];
  outcomes: (PrimaryBackupOutcome | undefined)[];
}> {
  const r = await simulate({ n, seed, faults, timeLimitMs: 60_000 }, (comm) =>
    primaryBackupMain(comm, {
      replicas: REPLICAS,
      opsPerClient: 25,
      ...options,
    }),
  );
  const events = r.results.flatMap((x) => x?.history ?? []);
  return { events, outcomes: r.results };
}

const crashPrimary = (seed: number): FaultOptions => ({
  crashes: [{ rank: 0, atMs: 20 + ((seed * 13) % 60) }],
  delay: { minMs: 0.2, maxMs: 3 },
});

t.test('linearizable across seeds, with the primary crashing mid-run; the survivors hold one store', async (t) => {
  const seeds = await forEachSeed(12, {}, async (seed) => {
    const { events, outcomes } = await history(seed, crashPrimary(seed), {});
    const r = checkKvHistory(events);
    assert.equal(r.verdict, 'linearizable', `history of ${events.length} events`);
    const ok = events.filter((e) => e.type === 'ok').length;
    assert.ok(ok >= 60, `most operations completed (${ok} ok)`);
    const stores = outcomes.filter((x) => x?.role === 'replica').map((x) => JSON.stringify(x!.store));
    assert.equal(stores.length, REPLICAS - 1, 'rank 0 crashed');
    assert.equal(new Set(stores).size, 1, `the live replicas agree: ${stores.join(' ')}`);
    assert.equal(outcomes[1]!.stats!.takeovers, 1, 'rank 1 took over');
  });
  t.ok(seeds.length > 0);
});

t.test('linearizable with two replicas crashing one after the other (5 clients)', async (t) => {
  const seeds = await forEachSeed(4, { first: 100 }, async (seed) => {
    const { events, outcomes } = await history(
      seed,
      {
        crashes: [
          { rank: 0, atMs: 30 },
          { rank: 1, atMs: 70 + (seed % 20) },
        ],
        delay: { minMs: 0.2, maxMs: 3 },
      },
      {},
      8,
    );
    assert.equal(checkKvHistory(events).verdict, 'linearizable');
    assert.equal(outcomes[2]!.stats!.takeovers, 1, 'rank 2 ends as primary');
    assert.ok(events.filter((e) => e.type === 'ok').length >= 100, 'most of the 125 operations completed');
  });
  t.ok(seeds.length > 0);
});

const broken: Array<[string, Partial<PrimaryBackupOptions>, (seed: number) => FaultOptions]> = [
  [
    'ack-before-replicate (asynchronous replication) loses acknowledged writes when the primary crashes',
    { ackBeforeReplicate: true },
    crashPrimary,
  ],
  [
    'read-from-backups returns a value older than one already read (a new-old inversion during a write)',
    { readFromBackups: true, keys: ['x'], opsPerClient: 30, thinkMs: 1 },
    (): FaultOptions => ({ delay: { meanMs: 3, maxMs: 30 } }),
  ],
];
for (const [name, variant, faults] of broken) {
  t.test(`the checker catches the broken variant: ${name}`, async (t) => {
    let caught: number | undefined;
    for (let seed = 1; seed <= 10 && caught === undefined; seed++) {
      const { events } = await history(seed, faults(seed), variant, variant.readFromBackups ? 8 : 6);
      const r = checkKvHistory(events);
      if (r.verdict === 'not-linearizable') {
        caught = seed;
        t.ok(r.illegal!.length >= 1, `seed ${seed}: a minimal counterexample of ${r.illegal!.length} operations`);
      }
    }
    t.ok(caught !== undefined, `caught within 10 seeds (first at seed ${caught})`);
  });
}
