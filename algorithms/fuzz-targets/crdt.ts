/**
 * Fuzz targets of the state-based CRDTs under anti-entropy (see consensus.ts for what a target
 * holds). Safety: a replica that says it converged holds the join of every update. Liveness: every
 * replica converges once the network is stable.
 */
import type { Communicator, SimulationResult } from 'dsmpi';
import { LivenessError } from 'dsmpi/fuzz';
import { gossipUntilConverged } from '../crdt/anti-entropy.ts';
import { gcounterCanonical, gcounterEmpty, gcounterIncrement, gcounterMerge, type GCounter } from '../crdt/gcounter.ts';
import { lwwCanonical, lwwEmpty, lwwMerge, type LwwMap } from '../crdt/lww-map.ts';
import { ReplicatedMap } from '../crdt/replicated-map.ts';
import { otherPort } from './common.ts';

/** Anti-entropy copes with any message fault; a crashed replica's updates may be lost, so no crashes. */
const tolerates = ['loss', 'duplicates', 'reordering', 'broken-fifo', 'delay', 'partition', 'one-way-partition', 'pause'] as const;

interface Replica {
  /** Canonical text of the final state, or undefined if the replica gave up. */
  canonical: string | undefined;
}

/**
 * The canonical join of every replica's own updates; undefined when some are unknown: a replica that
 * crashed for good returned none, and a restarted one returned only its last incarnation's.
 */
function joinOf<S>(
  r: SimulationResult<{ canonical: string | undefined }>,
  own: Array<S | undefined>,
  merge: (a: S, b: S) => S,
  empty: S,
  canonical: (s: S) => string,
): string | undefined {
  if (own.includes(undefined) || r.restarts.some((k) => k > 0)) return undefined;
  return canonical((own as S[]).reduce(merge, empty));
}

/**
 * Each finished replica converged, and to the same state: `expected` (the join of every update) when
 * it is known.
 */
function checkReplicas(r: SimulationResult<Replica>, expected: string | undefined): void {
  r.results.forEach((x, rank) => {
    const want = expected ?? r.results.find((y) => y?.canonical !== undefined)?.canonical;
    if (x && x.canonical !== undefined && x.canonical !== want)
      throw new Error(
        `rank ${rank} converged to ${x.canonical}, but ${expected ? 'the join of every update' : 'another replica'} is ${want}`,
      );
  });
  const gaveUp = r.results.flatMap((x, rank) => (x && x.canonical === undefined ? [rank] : []));
  if (gaveUp.length) throw new LivenessError(`rank(s) ${gaveUp.join(', ')} gave up before converging`);
}

export const gcounter = otherPort<Replica & { mine: GCounter }>({
  name: 'gcounter',
  horizonMs: 200,
  tolerates,
  setup() {
    return {
      async main(comm: Communicator) {
        let mine = gcounterEmpty();
        for (let i = 0; i <= comm.rank; i++) mine = gcounterIncrement(mine, comm.rank, 1 + Math.floor(comm.random() * 3));
        const g = await gossipUntilConverged(comm, { merge: gcounterMerge, canonical: gcounterCanonical }, mine);
        return { canonical: g.converged ? gcounterCanonical(g.state) : undefined, mine };
      },
      check(r) {
        if (r)
          checkReplicas(
            r,
            joinOf(
              r,
              r.results.map((x) => x?.mine),
              gcounterMerge,
              gcounterEmpty(),
              gcounterCanonical,
            ),
          );
      },
    };
  },
});

export const lwwMap = otherPort<Replica & { written: LwwMap<number> }>({
  name: 'lww-map',
  horizonMs: 200,
  tolerates,
  setup() {
    return {
      async main(comm: Communicator) {
        const map = new ReplicatedMap<number>(comm.rank);
        for (let i = 1 + Math.floor(comm.random() * 3); i > 0; i--) {
          const key = 'k' + Math.floor(comm.random() * 3);
          const value = comm.random() < 0.3 ? null : comm.rank;
          if (value === null) map.delete(key);
          else map.put(key, value);
        }
        // What this replica wrote: the join of every replica's is the state all must reach.
        const written = structuredClone(map.state);
        const g = await map.sync(comm, { epoch: 0 });
        return { canonical: g.converged ? lwwCanonical(map.state) : undefined, written };
      },
      check(r) {
        if (r)
          checkReplicas(
            r,
            joinOf(
              r,
              r.results.map((x) => x?.written),
              lwwMerge,
              lwwEmpty<number>(),
              lwwCanonical,
            ),
          );
      },
    };
  },
});
