import t from 'tap';
import { ANY_SOURCE, ErrorCode, runLocal, simulate, type Communicator } from '../../runtime/index.ts';

/** The parent spawns 2 children, then 1 more on the same intercomm; each child answers and retires. */
async function family(world: Communicator): Promise<unknown> {
  const parent = world.parent;
  if (parent) {
    const m = await parent.recv<number>(0, 1);
    await parent.send({ child: world.rank, of: world.size, got: m.data }, 0, 2);
    return world.retire();
  }
  const inter = await world.spawn(2);
  t.equal(inter.size, 2);
  const more = await inter.spawn(1);
  t.same(more, [2]);
  for (let i = 0; i < inter.size; i++) await inter.send(i * 10, i, 1);
  const answers: unknown[] = [];
  for (let i = 0; i < inter.size; i++) answers.push((await inter.recv(ANY_SOURCE, 2)).data);
  // Once a child has retired, sending to it rejects with DS_ERR_RETIRED rather than hanging.
  await world.clock.sleep(10);
  t.same(inter.retired(), [0, 1, 2]);
  await t.rejects(inter.send('late', 0, 1), { code: ErrorCode.Retired });
  await t.rejects(inter.recv(1, 2), { code: ErrorCode.Retired });
  return answers.sort((a, b) => (a as { got: number }).got - (b as { got: number }).got);
}

t.test('simulate: spawn, spawn more on the same intercomm, answer, retire', async (t) => {
  const r = await simulate({ n: 1, seed: 5 }, family);
  t.same(r.results[0], [
    { child: 0, of: 2, got: 0 },
    { child: 1, of: 2, got: 10 },
    { child: 0, of: 1, got: 20 },
  ]);
  t.equal(r.results.length, 4, 'three ranks were added to the world');
  t.equal(r.crashed.length, 0, 'retiring is not a crash');
  const again = await simulate({ n: 1, seed: 5 }, family);
  t.equal(again.jsonl(), r.jsonl(), 'the same seed replays, spawns included');
});

t.test('simulate: a named program; a bad name throws', async (t) => {
  const r = await simulate(
    {
      n: 1,
      seed: 1,
      programs: {
        echo: async (w) => {
          const m = await w.parent!.recv(0);
          await w.parent!.send(m.data, 0);
          return w.retire();
        },
      },
    },
    async (world) => {
      const inter = await world.spawn(1, { program: 'echo' });
      await inter.send('hi', 0);
      const m = await inter.recv(0);
      await t.rejects(world.spawn(1, { program: 'nope' }), {
        code: ErrorCode.InvalidArgument,
      });
      return m.data;
    },
  );
  t.equal(r.results[0], 'hi');
});

t.test('runLocal has no spawn', async (t) => {
  await runLocal(1, async (world) => {
    await t.rejects(world.spawn(1), { code: ErrorCode.InvalidArgument });
    t.equal(world.parent, undefined);
  });
});
