/**
 * Chandy and Lamport's snapshot (1985) over a bank: every rank starts with a balance and sends
 * random Transfers to random others while one rank takes a snapshot of the global state.
 *
 * The rules (the canonical ones; the notes' "later markers are ignored" is wrong): the initiator
 * records its state and, before sending anything else, a Marker on every outgoing channel. A rank's
 * first Marker (on channel c) makes it record its state, take c's state as empty, send Markers on
 * all its channels and start recording every other incoming channel. Each later Marker on a channel
 * closes that channel's recording: its state is what came on it between the rank's recording and the
 * Marker. Markers travel on the same channels as Transfers, and channels must be FIFO; the runtime
 * keeps a sender's messages to one receiver in order whatever the tag, and the rank receives with
 * ANY_TAG, so a Marker never overtakes a Transfer sent before it.
 *
 * A snapshot is right when recorded balances plus recorded in-flight amounts equal the total money.
 */
import { defineTags, ANY_SOURCE, ANY_TAG, type Communicator } from 'dsmpi';
import { Net, type SentCounts } from './common.ts';
import { InvariantError } from '../checkers/consensus-invariants.ts';
import { checkCut, type CutEvent } from './consistent-cut.ts';

export const Tag = defineTags('chandy-lamport', ['Transfer', 'Marker', 'Done']);

export interface SnapshotOptions {
  /** Starting balance of every rank (default 100). */
  initialBalance?: number;
  /** Transfers each rank sends (default 20). */
  transfers?: number;
  /** Longest random pause between two transfers (default 1 ms). */
  pauseMs?: number;
  /** The rank that takes the snapshot (default 0), after this many of its own transfers (default half). */
  initiator?: number;
  snapshotAfter?: number;
}

export interface Transfer {
  id: string;
  amount: number;
}

export interface SnapshotResult {
  rank: number;
  /** The state this rank recorded. */
  recordedBalance: number;
  /** Per incoming channel (indexed by source rank): the Transfers recorded as in flight. */
  channels: Transfer[][];
  /** How many of this rank's events come before its recording (its part of the cut). */
  cutIndex: number;
  /** Every send and receive of a Transfer, in order. */
  events: CutEvent[];
  finalBalance: number;
  sent: SentCounts;
}

export async function chandyLamport(comm: Communicator, options: SnapshotOptions = {}): Promise<SnapshotResult> {
  const n = comm.size;
  const transfers = options.transfers ?? 20;
  const initiator = options.initiator ?? 0;
  const snapshotAfter = options.snapshotAfter ?? Math.floor(transfers / 2);
  const pauseMs = options.pauseMs ?? 1;
  const net = new Net(comm, Tag);
  const others = Array.from({ length: n }, (_, r) => r).filter((r) => r !== comm.rank);

  let balance = options.initialBalance ?? 100;
  const events: CutEvent[] = [];
  let recorded = false;
  let recordedBalance = 0;
  let cutIndex = 0;
  const channels: Transfer[][] = Array.from({ length: n }, () => []);
  const recording = new Array<boolean>(n).fill(false);
  let markersIn = 0;

  /** Record the local state and send the markers, in one go: nothing can come between. */
  const recordState = (markerFrom?: number): void => {
    recorded = true;
    recordedBalance = balance;
    cutIndex = events.length;
    comm.note('recorded', balance);
    for (const r of others) recording[r] = r !== markerFrom;
    for (const r of others) net.post(r, Tag.Marker, null);
  };

  const sender = async (): Promise<void> => {
    for (let i = 0; i < transfers; i++) {
      if (comm.rank === initiator && i === snapshotAfter) recordState();
      await comm.clock.sleep(comm.random() * pauseMs);
      if (others.length === 0 || balance === 0) continue;
      const to = others[Math.floor(comm.random() * others.length)];
      const amount = 1 + Math.floor(comm.random() * Math.min(balance, 20));
      const id = `${comm.rank}:${i}`;
      balance -= amount;
      events.push({ kind: 'send', id, peer: to });
      net.post(to, Tag.Transfer, { id, amount });
    }
    if (comm.rank === initiator && !recorded) recordState();
    for (const r of others) net.post(r, Tag.Done, null);
  };

  const receiver = async (): Promise<void> => {
    let done = 0;
    while (done < others.length || !recorded || markersIn < others.length) {
      const m = await comm.recv(ANY_SOURCE, ANY_TAG);
      if (m.tag === Tag.Transfer) {
        const t = m.data as Transfer;
        balance += t.amount;
        events.push({ kind: 'recv', id: t.id, peer: m.source });
        if (recording[m.source]) channels[m.source].push(t);
      } else if (m.tag === Tag.Marker) {
        markersIn++;
        if (!recorded) recordState(m.source);
        else recording[m.source] = false;
        if (markersIn === others.length)
          comm.note(
            'channels recorded',
            channels.map((c) => c.length),
          );
      } else if (m.tag === Tag.Done) {
        done++;
      }
    }
  };

  await Promise.all([sender(), others.length > 0 ? receiver() : undefined]);
  return { rank: comm.rank, recordedBalance, channels, cutIndex, events, finalBalance: balance, sent: net.sent };
}

/** The total a snapshot shows: recorded balances plus the amounts recorded in flight. */
export function snapshotTotal(results: readonly SnapshotResult[]): number {
  let total = 0;
  for (const r of results) {
    total += r.recordedBalance;
    for (const ch of r.channels) for (const t of ch) total += t.amount;
  }
  return total;
}

/**
 * Checks a snapshot (course notes D1, D2): it conserves the money (`total`), its cut is consistent,
 * and the channel states it recorded are exactly the Transfers in flight across it.
 */
export function checkSnapshot(results: readonly SnapshotResult[], total: number): void {
  const shown = snapshotTotal(results);
  if (shown !== total) throw new InvariantError('conservation', `the snapshot shows ${shown}, the total is ${total}`);
  const final = results.reduce((s, r) => s + r.finalBalance, 0);
  if (final !== total) throw new InvariantError('conservation', `the final balances sum to ${final}, the total is ${total}`);
  const cut = checkCut(
    results.map((r) => r.events),
    results.map((r) => r.cutIndex),
  );
  if (!cut.consistent) throw new InvariantError('consistent cut', `received inside the cut but sent outside: ${cut.orphans.join(' ')}`);
  const recorded = results
    .flatMap((r) => r.channels.flatMap((ch, from) => ch.map((x) => ({ id: x.id, from, to: r.rank }))))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (JSON.stringify(recorded) !== JSON.stringify(cut.inTransit))
    throw new InvariantError(
      'channel states',
      `recorded ${JSON.stringify(recorded)}, in flight across the cut ${JSON.stringify(cut.inTransit)}`,
    );
}
