import { ErrorCode, isDsError, type Communicator } from 'dsmpi';

/**
 * Every rank but 0 enters a world barrier and tells rank 0 so; rank 0 never enters: it revokes the
 * world once all the others wait in the barrier. Each rank returns what became of its barrier: the
 * others' must fail with DS_ERR_REVOKED (with ranks as threads, a barrier waits on a counter in
 * shared memory), and rank 0's later barrier too.
 */
export async function revokeWaitingBarrier(world: Communicator): Promise<string> {
  const outcome = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'passed',
      (err: unknown) => (isDsError(err) ? err.code : String(err)),
    );
  if (world.rank === 0) {
    for (let r = 1; r < world.size; r++) await world.recv(r, 1);
    world.revoke();
    return outcome(Promise.resolve().then(() => world.barrier()));
  }
  const barrier = world.ibarrier();
  await world.send('waiting', 0, 1);
  const got = await outcome(barrier.then());
  if (got !== ErrorCode.Revoked) return got;
  // Nothing more passes on the revoked world: a new barrier fails at once.
  return outcome(Promise.resolve().then(() => world.barrier()));
}
