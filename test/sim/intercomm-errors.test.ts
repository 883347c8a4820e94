// An intercomm takes the communicators' point-to-point path: the same bad argument gets the same
// error, thrown at once (before any I/O), from both.
import t from 'tap';
import { ErrorCode, simulate, type Communicator, type Intercomm } from 'dsmpi';

interface Outcome {
  code: string | undefined;
  thrown: boolean;
}

/** How `call` fails at once: the error code it throws (a returned promise's rejection is ignored). */
function sync(call: () => unknown): Outcome {
  try {
    const r = call() as { catch?: (f: () => void) => void } | undefined;
    r?.catch?.(() => {});
    return { code: undefined, thrown: false };
  } catch (err) {
    return { code: (err as { code?: string }).code, thrown: true };
  }
}

const cases: Array<[string, (c: Communicator | Intercomm) => unknown]> = [
  ['send to a rank past the end', (c) => c.send(1, 5, 0)],
  ['send to a negative rank', (c) => c.send(1, -7, 0)],
  ['send with a negative tag', (c) => c.send(1, 0, -3)],
  ['send with a fractional tag', (c) => c.send(1, 0, 1.5)],
  ['send of a Map', (c) => c.send(new Map(), 0, 0)],
  ['recv from a rank past the end', (c) => c.recv(5, 0)],
  ['recv with a bad timeout', (c) => c.recv(0, 0, { timeoutMs: -1 })],
  ['iprobe with a bad tag', (c) => c.iprobe(0, -3)],
];

t.test('communicator and intercomm throw the same errors for the same bad arguments', async (t) => {
  const r = await simulate({ n: 1, seed: 3 }, async (world) => {
    if (world.parent) return world.retire();
    const inter = await world.spawn(1);
    const rows = cases.map(([name, call]) => ({ name, comm: sync(() => call(world)), inter: sync(() => call(inter)) }));
    await inter.recv(0).catch(() => {}); // the child retires: DS_ERR_RETIRED
    return rows;
  });
  for (const row of r.results[0] as Array<{ name: string; comm: Outcome; inter: Outcome }>) {
    t.ok(row.comm.thrown && row.comm.code, `${row.name}: the communicator throws (${row.comm.code})`);
    t.same(row.inter, row.comm, `${row.name}: the intercomm throws the same`);
  }
  const codes = new Set((r.results[0] as Array<{ comm: Outcome }>).map((row) => row.comm.code));
  t.same([...codes].sort(), [ErrorCode.InvalidArgument, ErrorCode.InvalidRank, ErrorCode.Unencodable].sort(), 'the errors expected');
});
