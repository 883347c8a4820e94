import t from 'tap';
import type { Communicator } from 'dsmpi';
import { explore, parseSchedule, type ExploreRun } from 'dsmpi/explore';

/** Why a receive failed, or what it got. */
async function attempt<T>(op: () => Promise<T>): Promise<T | string> {
  try {
    return await op();
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  }
}

/**
 * Rank 0 hands a value to rank 1, waits for its acknowledgement, then hands it to rank 2; ranks 1
 * and 2 answer with what they got ('none' if rank 0 was lost first). If `buggy`, the check wrongly
 * assumes ranks 1 and 2 always end with the same answer: false only if rank 0 crashes after its
 * message to rank 1 and before the one to rank 2. `outcomes` gets every execution's answers.
 */
function relay(buggy: boolean, outcomes: Set<string> = new Set()): () => ExploreRun<string> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await attempt(() => comm.send('v', 1));
        await attempt(() => comm.recv(1));
        await attempt(() => comm.send('v', 2));
        return 'sent';
      }
      const got = await attempt(() => comm.recv(0));
      if (comm.rank === 1 && typeof got !== 'string') await attempt(() => comm.send('ack', 0));
      return typeof got === 'string' ? 'none' : String(got.data);
    },
    check: (result) => {
      const answers = result!.results;
      outcomes.add(JSON.stringify(answers));
      if (buggy && answers[1] !== undefined && answers[2] !== undefined && answers[1] !== answers[2])
        throw new Error(`rank 1 got ${answers[1]}, rank 2 got ${answers[2]}`);
    },
  });
}

t.test('delay bounding finds a bug that needs one crash with crashes: 1, and proves its absence with crashes: 0', async (t) => {
  const none = await explore({ n: 3, strategy: 'delay-bounding', delays: 2 }, relay(true));
  t.equal(none.failure, undefined, 'no failure without crashes');
  t.equal(none.exhausted, true, 'exhausted');
  const r = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, crashes: 1 }, relay(true));
  t.match(r.failure?.message, /rank 1 got v, rank 2 got none/, 'found with one crash');
  const schedule = parseSchedule(r.failure!.schedule);
  t.same(
    [...schedule.values()].map((c) => c.fault),
    [{ kind: 'crash', rank: 0 }],
    `1-minimal: one deviation, the crash of rank 0 (${r.failure!.schedule})`,
  );
  t.equal(r.rounds!.length, 2, `in the round of one deviation (rounds ${r.rounds!.join(', ')})`);
  // The line replays, with no crash budget given: the schedule names its faults.
  const replay = await explore({ n: 3, strategy: 'delay-bounding', schedule: r.failure!.schedule }, relay(true));
  t.match(replay.failure?.message, /rank 1 got v, rank 2 got none/, `${r.failure!.schedule} replays`);
  process.env.DSMPI_SCHEDULE = r.failure!.schedule;
  try {
    const env = await explore({ n: 3, strategy: 'random' }, relay(true));
    t.match(env.failure?.message, /rank 1 got v, rank 2 got none/, 'and replays from DSMPI_SCHEDULE');
  } finally {
    delete process.env.DSMPI_SCHEDULE;
  }
});
