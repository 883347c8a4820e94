// Small programs the explorer's tests search (test/sim/explore*.test.ts), with what they record.
import type { Communicator } from 'dsmpi';
import type { ExploreRun } from 'dsmpi/explore';

/**
 * Ranks 2 and 3 each send ranks 0 and 1 one message; 0 and 1 each record the order they heard them
 * in. Four deliveries on four links: 4! = 24 interleavings, but 2 × 2 = 4 Mazurkiewicz traces
 * (rank 0's order times rank 1's), since deliveries to different ranks commute. `seen` gets each
 * execution's outcome.
 */
export function twoReceivers(): { seen: string[]; run: () => ExploreRun<number[]> } {
  const seen: string[] = [];
  const run = (): ExploreRun<number[]> => ({
    main: async (comm: Communicator) => {
      if (comm.rank >= 2) {
        await comm.send(comm.rank, 0);
        await comm.send(comm.rank, 1);
        return [];
      }
      return [(await comm.recv()).source, (await comm.recv()).source];
    },
    check: (result) => void seen.push(JSON.stringify(result!.results)),
  });
  return { seen, run };
}

/**
 * Ranks 1, 2 and 3 each send rank 0 one message at once; if `buggy`, rank 0 wrongly assumes that
 * rank `late`'s never comes first. `orders` gets, per execution, the senders in the order rank 0
 * heard them.
 */
export function gather(buggy: boolean, late = 3, orders: number[][] = []): () => ExploreRun<void> {
  return () => {
    const heard: number[] = [];
    return {
      main: async (comm: Communicator) => {
        if (comm.rank === 0) for (let i = 0; i < 3; i++) heard.push((await comm.recv()).source);
        else await comm.send(comm.rank, 0);
      },
      always: () => {
        if (buggy && heard[0] === late) throw new Error(`rank 0 heard rank ${late} first`);
      },
      check: () => void orders.push(heard),
    };
  };
}

/**
 * Rank 0 asks rank 1 and waits 50 ms for the answer, wrongly assuming it never times out, while the
 * ranks from 2 up (none at n = 2, three at n = 5) pass tokens round a ring `hops` times: at the race,
 * the timeout is offered after the pong and the tokens in flight, due before it, and the ring runs
 * on long after.
 */
export function timeoutBesideRing(hops: number): () => ExploreRun<void> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await comm.send('ping', 1);
        try {
          await comm.recv(1, 0, { timeoutMs: 50 });
        } catch {
          throw new Error('rank 0 timed out');
        }
      } else if (comm.rank === 1) {
        await comm.recv(0);
        await comm.send('pong', 0);
      } else {
        const next = comm.rank === comm.size - 1 ? 2 : comm.rank + 1;
        const previous = comm.rank === 2 ? comm.size - 1 : comm.rank - 1;
        await comm.send('token', next);
        for (let hop = 0; hop < hops; hop++) await comm.send(await comm.recv(previous), next);
        await comm.recv(previous);
      }
    },
  });
}
