/**
 * Fuzz targets of the failure detector, primary-backup replication and telemetry (see consensus.ts
 * for what a target holds).
 */
import type { Communicator } from 'dsmpi';
import { otherPort } from './common.ts';
import { checkConsensus, checkDetector, InvariantError } from '../checkers/consensus-invariants.ts';
import { detectorMain, type DetectorReport } from '../failure-detector.ts';
import { paxosLayout, singlePaxosMain, Tag as PaxosTag } from '../paxos/single-paxos.ts';
import { checkKvHistory, primaryBackupMain, type PrimaryBackupOutcome } from '../replication/primary-backup.ts';
import { collectTelemetry, instrument, type TelemetryEvent } from '../telemetry/telemetry.ts';

/** Long enough after the latest stabilization the schedules draw (about 800 ms) for suspicions to settle. */
const DETECTOR_RUN_MS = 2_000;

export const failureDetector = otherPort<DetectorReport>({
  name: 'failure-detector',
  horizonMs: 150,
  // Heartbeats repeat, so every message fault passes once the network is stable; a rank that
  // restarts after the others stopped would rightly suspect them all, so crashes are crash-stop.
  tolerates: ['loss', 'duplicates', 'reordering', 'broken-fifo', 'delay', 'partition', 'one-way-partition', 'crash-stop', 'pause'],
  livenessMs: () => DETECTOR_RUN_MS + 100,
  setup() {
    return {
      main: (c: Communicator) => detectorMain(c, DETECTOR_RUN_MS),
      // Completeness (every crashed rank suspected by every live one) and eventual accuracy (no
      // live rank suspected), at the end of a run whose faults stopped long before.
      check(r) {
        if (r)
          checkDetector(
            r.results.map((x) => x?.suspects),
            r.crashed,
          );
      },
    };
  },
});

const replicasOf = (n: number): number => Math.min(3, n - 1);

export const primaryBackup = otherPort<PrimaryBackupOutcome>({
  name: 'primary-backup',
  minN: 2,
  horizonMs: 100,
  // The passive model: crash-stop with a perfect failure detector (the runtime's), reliable
  // channels. A lost update or a partition looks like nothing the detector reports.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'crash-stop', 'pause'],
  outOfModel(s) {
    const clients = s.crashes.filter((c) => c.rank >= replicasOf(s.n)).map((c) => c.rank);
    return clients.length ? `client ${clients.join(', ')} crashes (its history goes with it)` : undefined;
  },
  setup(n) {
    return {
      main: (c: Communicator) => primaryBackupMain(c, { replicas: replicasOf(n), opsPerClient: 8 }),
      check(r) {
        if (!r || r.results.some((x, rank) => !x && rank >= replicasOf(n))) return;
        const history = r.results.flatMap((x) => x?.history ?? []);
        const verdict = checkKvHistory(history, 10_000).verdict;
        if (verdict === 'not-linearizable') throw new InvariantError('linearizability', `history of ${history.length} events`);
        const stores = new Set(r.results.flatMap((x) => (x?.role === 'replica' ? [JSON.stringify(x.store)] : [])));
        if (stores.size > 1) throw new InvariantError('replicas agree', `the live replicas end with ${[...stores].join(' ')}`);
      },
    };
  },
});

interface TelemetryRun {
  decided: unknown;
  events?: TelemetryEvent[];
}

const clientValue = (rank: number): number => 40 + rank;

export const telemetry = otherPort<TelemetryRun>({
  name: 'telemetry',
  minN: 5,
  horizonMs: 100,
  // The telemetry rank waits for every rank's End, and takes a rank's events as complete when its
  // End has come (per-pair order). Its channel is made by dup(), a collective that a crash fails.
  tolerates: ['reordering', 'delay', 'pause'],
  setup(n) {
    return {
      async main(world: Communicator) {
        const channel = await world.dup();
        const tel = instrument(world, channel, n - 1, world.clock.now(), (dir, tag) =>
          dir === 'send' && tag === PaxosTag.Decide ? { decision: true } : undefined,
        );
        const o = await singlePaxosMain(tel.comm, clientValue);
        await tel.end();
        return { decided: o.decided, events: world.rank === n - 1 ? await collectTelemetry(channel) : undefined };
      },
      check(r) {
        if (!r) return;
        checkConsensus(
          r.results.map((x) => x?.decided),
          paxosLayout(n).clients.map(clientValue),
        );
        const events = r.results[n - 1]?.events;
        if (events) checkAccounting(events);
      },
    };
  },
});

/** Telemetry reports no receive of a message that was not sent: per sender, receiver and tag. */
function checkAccounting(events: readonly TelemetryEvent[]): void {
  const sent = new Map<string, number>();
  for (const e of events)
    if (e.kind === 'send') sent.set(`${e.rank}>${e.peer}:${e.tag}`, (sent.get(`${e.rank}>${e.peer}:${e.tag}`) ?? 0) + 1);
  for (const e of events) {
    if (e.kind !== 'recv') continue;
    const key = `${e.peer}>${e.rank}:${e.tag}`;
    const left = (sent.get(key) ?? 0) - 1;
    if (left < 0)
      throw new InvariantError('telemetry accounting', `rank ${e.rank} received tag ${e.tag} from ${e.peer} more often than it was sent`);
    sent.set(key, left);
  }
}
