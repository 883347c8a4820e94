/**
 * Primary-backup (passive) replication of a small key-value store, with failover (Coulouris et al.,
 * "The passive (primary-backup) model", 18.3; the course notes' primary-backup and key-value store).
 *
 * Ranks 0..replicas-1 are replicas, the others clients. The primary is the lowest-ranked replica not
 * known to be dead (`comm.failed()`, checked on every tick and on each `onFailure`): crash-stop with
 * a perfect failure detector, as the passive model assumes. The view is the primary's rank, so views
 * only grow. The primary takes requests one at a time: a get is answered from its store; a put or an
 * append is applied, then the new state (store, version, last reply per client) is sent to every
 * live backup, and the client is answered only when each of them has acknowledged it. A replica that
 * becomes primary first sends its whole state to the remaining backups (so one that had seen an
 * update the old primary never acknowledged falls back in line) and serves requests once they have
 * acknowledged. Backups ignore updates from a view below theirs (the dead primary's messages still
 * in flight).
 *
 * Clients send each request to the replica they think is primary and retry (same sequence number, so
 * the primary's table of last replies answers a duplicate without applying it twice) until answered
 * or `giveUpMs` passes: then the outcome is indefinite (`info`). Every client records its history
 * (invoke / ok / fail / info with `comm.clock` times) for the linearizability checker.
 *
 * Two deliberately broken variants, for the checker to catch: `ackBeforeReplicate` answers a write at
 * once and replicates it `lazyMs` later (asynchronous replication: a crash loses acknowledged
 * writes), and `readFromBackups` lets clients read from any replica (stale reads).
 */
import { defineTags, ANY_SOURCE, ErrorCode, isDsError, type Communicator } from 'dsmpi';
import { checkLinearizability, type CheckResult, type Operation } from '../checkers/linearizability.ts';
import { kvModel, type KvInput } from '../checkers/models.ts';
import { recvWithin } from '../common/recv-within.ts';
import { range, serve, toAll, type Input, type Machine, type Out } from '../common/serve.ts';

/** Message names; numbers from the tag registry. */
export const Tag = defineTags('primary-backup', ['Request', 'Reply', 'NotPrimary', 'Update', 'UpdateAck', 'Done', 'History']);

export interface PrimaryBackupOptions {
  /** Number of replicas (ranks 0..replicas-1). */
  replicas: number;
  /** Operations per client. */
  opsPerClient: number;
  /** Keys the clients use. */
  keys: string[];
  /** A client waits this long for an answer before it asks again. */
  retryMs: number;
  /** ... and gives up (indefinite outcome) after this long. */
  giveUpMs: number;
  /** A client pauses up to this long between operations (uniform). */
  thinkMs: number;
  /** How often replicas look at the failure detector. */
  tickMs: number;
  /** Broken: answer writes before replicating them (replicated `lazyMs` later). */
  ackBeforeReplicate: boolean;
  lazyMs: number;
  /** Broken: clients read from any live replica, not only the primary. */
  readFromBackups: boolean;
}

export const defaultPrimaryBackupOptions: PrimaryBackupOptions = {
  replicas: 3,
  opsPerClient: 20,
  keys: ['x', 'y'],
  retryMs: 20,
  giveUpMs: 200,
  thinkMs: 4,
  tickMs: 5,
  ackBeforeReplicate: false,
  lazyMs: 30,
  readFromBackups: false,
};

// ---- the history clients record (Jepsen style) ----
export interface HistoryEvent {
  process: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: 'get' | 'put' | 'append';
  key: string;
  /** The value written (put, append) or read (get, on ok). */
  value: string | null;
  timeMs: number;
}

/** Pairs each invoke with its completion: ok → a finished operation; info → indefinite; fail → left out. */
export function toOperations(history: readonly HistoryEvent[]): Operation<KvInput, string>[] {
  const open = new Map<number, HistoryEvent>();
  const ops: Operation<KvInput, string>[] = [];
  const sorted = [...history].sort((a, b) => a.timeMs - b.timeMs);
  const inputOf = (e: HistoryEvent): KvInput => (e.f === 'get' ? { f: 'get', key: e.key } : { f: e.f, key: e.key, value: e.value ?? '' });
  for (const e of sorted) {
    if (e.type === 'invoke') {
      open.set(e.process, e);
      continue;
    }
    const inv = open.get(e.process);
    if (!inv) throw new Error(`history: ${e.type} of process ${e.process} at ${e.timeMs} without an invoke`);
    open.delete(e.process);
    if (e.type === 'fail') continue;
    if (e.type === 'ok')
      ops.push({
        client: e.process,
        input: inputOf(inv),
        output: inv.f === 'get' ? (e.value ?? '') : undefined,
        call: inv.timeMs,
        ret: e.timeMs,
      });
    else
      ops.push({
        client: e.process,
        input: inputOf(inv),
        output: undefined,
        call: inv.timeMs,
        ret: Infinity,
      });
  }
  // An invoke never completed (the client crashed) is indefinite too.
  for (const inv of open.values())
    ops.push({
      client: inv.process,
      input: inputOf(inv),
      output: undefined,
      call: inv.timeMs,
      ret: Infinity,
    });
  return ops;
}

export function checkKvHistory(history: readonly HistoryEvent[], timeoutMs = 20_000): CheckResult<KvInput, string> {
  return checkLinearizability(toOperations(history), kvModel(), { timeoutMs });
}

// ---- replicas: a pure state machine run by serve() ----
type Op = { f: 'get'; key: string } | { f: 'put' | 'append'; key: string; value: string };
interface Request {
  client: number;
  seq: number;
  op: Op;
}
interface Reply {
  seq: number;
  value: string | null;
}

export interface ReplicaState {
  rank: number;
  replicas: number[];
  clients: number[];
  options: PrimaryBackupOptions;
  /** The primary this replica follows (its own rank when it is primary). */
  view: number;
  version: number;
  store: Record<string, string>;
  /** Per client: the last request applied and its reply (at-most-once execution of retries). */
  lastReply: Record<string, Reply>;
  queue: Request[];
  /** The update being acknowledged: who still owes an ack, and the reply to send once none does. */
  inflight:
    | {
        version: number;
        waiting: number[];
        reply?: { to: number; data: Reply };
      }
    | undefined;
  /** Broken variant: when the lazy replication is due. */
  lazyAtMs: number | undefined;
  failed: number[];
  /** Clients that sent Done (or died). */
  done: number[];
  /** A replica that finished said so: everything the primary applied is replicated. */
  replicaDone: boolean;
  /** This replica finished and told the others. */
  finished: boolean;
  nextTickMs: number;
  stats: {
    applied: number;
    updatesSent: number;
    takeovers: number;
    duplicates: number;
  };
}

export function primaryOf(replicas: readonly number[], failed: readonly number[]): number | undefined {
  return replicas.find((r) => !failed.includes(r));
}

export function startReplica(rank: number, size: number, nowMs: number, options: PrimaryBackupOptions): ReplicaState {
  const replicas = range(0, options.replicas);
  return {
    rank,
    replicas,
    clients: range(options.replicas, size),
    options,
    view: replicas[0],
    version: 0,
    store: {},
    lastReply: {},
    queue: [],
    inflight: undefined,
    lazyAtMs: undefined,
    failed: [],
    done: [],
    replicaDone: false,
    finished: false,
    nextTickMs: nowMs + options.tickMs,
    stats: { applied: 0, updatesSent: 0, takeovers: 0, duplicates: 0 },
  };
}

const isPrimary = (s: ReplicaState): boolean => primaryOf(s.replicas, s.failed) === s.rank;
const liveBackups = (s: ReplicaState): number[] => s.replicas.filter((r) => r !== s.rank && !s.failed.includes(r));

function update(s: ReplicaState): Out[] {
  s.stats.updatesSent++;
  return toAll(liveBackups(s), Tag.Update, {
    view: s.rank,
    version: s.version,
    store: s.store,
    lastReply: s.lastReply,
  });
}

/** Sends the state to the backups and waits for their acks before `reply` goes out. */
function replicate(s: ReplicaState, reply: { to: number; data: Reply } | undefined, out: Out[]): void {
  const waiting = liveBackups(s);
  out.push(...update(s));
  s.inflight = { version: s.version, waiting, reply };
  finishIfAcked(s, out);
}

function finishIfAcked(s: ReplicaState, out: Out[]): void {
  const f = s.inflight;
  if (!f) return;
  f.waiting = f.waiting.filter((r) => !s.failed.includes(r));
  if (f.waiting.length > 0) return;
  if (f.reply) out.push({ to: f.reply.to, tag: Tag.Reply, data: f.reply.data });
  s.inflight = undefined;
}

function apply(s: ReplicaState, op: Op): string | null {
  if (op.f === 'get') return s.store[op.key] ?? '';
  s.store[op.key] = op.f === 'put' ? op.value : (s.store[op.key] ?? '') + op.value;
  s.version++;
  s.stats.applied++;
  return null;
}

/** The primary takes queued requests while nothing awaits acknowledgement. */
function drain(s: ReplicaState, nowMs: number, out: Out[]): void {
  while (!s.inflight && s.queue.length > 0 && isPrimary(s) && s.view === s.rank) {
    const req = s.queue.shift()!;
    const last = s.lastReply[req.client];
    if (last && last.seq >= req.seq) {
      s.stats.duplicates++;
      if (last.seq === req.seq) out.push({ to: req.client, tag: Tag.Reply, data: last });
      continue;
    }
    const value = apply(s, req.op);
    const reply = { seq: req.seq, value };
    if (req.op.f === 'get') {
      out.push({ to: req.client, tag: Tag.Reply, data: reply });
      continue;
    }
    s.lastReply[req.client] = reply;
    if (s.options.ackBeforeReplicate) {
      out.push({ to: req.client, tag: Tag.Reply, data: reply });
      s.lazyAtMs ??= nowMs + s.options.lazyMs;
    } else {
      replicate(s, { to: req.client, data: reply }, out);
    }
  }
}

function noticeFailures(s: ReplicaState, failed: readonly number[], out: Out[]): void {
  const wasPrimary = s.view === s.rank;
  s.failed = [...failed];
  const primary = primaryOf(s.replicas, s.failed);
  if (primary === s.rank && !wasPrimary) {
    // Takeover: bring the other backups to this state before serving anyone.
    s.view = s.rank;
    s.stats.takeovers++;
    s.version++;
    s.inflight = undefined;
    replicate(s, undefined, out);
  }
  finishIfAcked(s, out);
}

/**
 * A replica finishes once every client is done and nothing it applied can be lost: the primary when
 * its queue is empty and its last update acknowledged, a backup when a replica that finished tells it
 * so. A finishing replica tells the other live replicas (Done). Backups that left on the clients'
 * Done alone would miss an update the primary applies afterwards (a request that reached it late,
 * after a pause): the replicas would end with different stores.
 */
function finishIfDone(s: ReplicaState, out: Out[]): void {
  if (s.finished || !s.clients.every((c) => s.done.includes(c))) return;
  const primaryIdle = isPrimary(s) && s.view === s.rank && !s.inflight && s.queue.length === 0 && s.lazyAtMs === undefined;
  if (!primaryIdle && !s.replicaDone) return;
  s.finished = true;
  out.push(...toAll(liveBackups(s), Tag.Done, null));
}

export function stepReplica(s: ReplicaState, input: Input): [ReplicaState, Out[]] {
  const out: Out[] = [];
  if (input.type === 'tick') {
    const takeovers = s.stats.takeovers;
    noticeFailures(s, input.failed, out);
    if (s.stats.takeovers > takeovers) input.note?.('primary', { view: s.view, version: s.version });
    for (const c of s.clients) if (input.failed.includes(c) && !s.done.includes(c)) s.done.push(c);
    if (s.lazyAtMs !== undefined && input.nowMs >= s.lazyAtMs) {
      s.lazyAtMs = undefined;
      out.push(...update(s));
    }
    s.nextTickMs = input.nowMs + s.options.tickMs;
    drain(s, input.nowMs, out);
    finishIfDone(s, out);
    return [s, out];
  }
  const from = input.source;
  switch (input.tag) {
    case Tag.Request: {
      const req = { client: from, ...(input.data as { seq: number; op: Op }) };
      if (req.op.f === 'get' && s.options.readFromBackups && !isPrimary(s)) {
        out.push({
          to: from,
          tag: Tag.Reply,
          data: { seq: req.seq, value: s.store[req.op.key] ?? '' },
        });
        break;
      }
      if (!isPrimary(s)) {
        out.push({
          to: from,
          tag: Tag.NotPrimary,
          data: {
            seq: req.seq,
            primary: primaryOf(s.replicas, s.failed) ?? null,
          },
        });
        break;
      }
      if (!s.queue.some((q) => q.client === req.client && q.seq === req.seq)) s.queue.push(req);
      break;
    }
    case Tag.Update: {
      const u = input.data as {
        view: number;
        version: number;
        store: Record<string, string>;
        lastReply: Record<string, Reply>;
      };
      if (u.view < s.view) break; // from a primary already replaced
      if (u.view > s.view || u.version > s.version) {
        if (u.view > s.view) input.note?.('view', u.view);
        s.view = u.view;
        s.version = u.version;
        s.store = u.store;
        s.lastReply = u.lastReply;
      }
      out.push({ to: from, tag: Tag.UpdateAck, data: { version: u.version } });
      break;
    }
    case Tag.UpdateAck: {
      const { version } = input.data as { version: number };
      if (s.inflight && s.inflight.version === version) {
        s.inflight.waiting = s.inflight.waiting.filter((r) => r !== from);
        finishIfAcked(s, out);
      }
      break;
    }
    case Tag.Done: {
      if (s.replicas.includes(from)) s.replicaDone = true;
      else if (!s.done.includes(from)) s.done.push(from);
      break;
    }
  }
  drain(s, input.nowMs, out);
  finishIfDone(s, out);
  return [s, out];
}

export function replicaMachine(): Machine<ReplicaState> {
  return {
    step: stepReplica,
    wakeAtMs: (s) => Math.min(s.nextTickMs, s.lazyAtMs ?? Infinity),
    done: (s) => s.finished,
  };
}

// ---- clients ----
function send(comm: Communicator, data: unknown, to: number, tag: number): void {
  if (comm.failed().includes(to)) return;
  try {
    comm.isend(data, to, tag).then(undefined, () => undefined);
  } catch (err) {
    if (!(isDsError(err) && (err.code === ErrorCode.PeerLost || err.code === ErrorCode.Closed))) throw err;
  }
}

function randomOp(comm: Communicator, o: PrimaryBackupOptions, i: number): Op {
  const key = o.keys[Math.floor(comm.random() * o.keys.length)];
  const r = comm.random();
  if (r < 0.4) return { f: 'get', key };
  const value = `${comm.rank}.${i}`;
  return r < 0.7 ? { f: 'put', key, value } : { f: 'append', key, value: `${value};` };
}

async function clientMain(comm: Communicator, o: PrimaryBackupOptions): Promise<HistoryEvent[]> {
  const history: HistoryEvent[] = [];
  const replicas = range(0, o.replicas);
  const record = (type: HistoryEvent['type'], op: Op, value: string | null): void => {
    history.push({
      process: comm.rank,
      type,
      f: op.f,
      key: op.key,
      value,
      timeMs: comm.clock.now(),
    });
  };
  for (let seq = 1; seq <= o.opsPerClient; seq++) {
    await comm.clock.sleep(comm.random() * o.thinkMs);
    const op = randomOp(comm, o, seq);
    record('invoke', op, op.f === 'get' ? null : op.value);
    const giveUpAt = comm.clock.now() + o.giveUpMs;
    let outcome: 'ok' | 'info' | 'fail' = 'info';
    let value: string | null = null;
    let sentAny = false;
    while (comm.clock.now() < giveUpAt) {
      const live = replicas.filter((r) => !comm.failed().includes(r));
      if (live.length === 0) break;
      const target = op.f === 'get' && o.readFromBackups ? live[Math.floor(comm.random() * live.length)] : live[0];
      send(comm, { seq, op }, target, Tag.Request);
      sentAny = true;
      let answered = false;
      // Replies to earlier attempts (or earlier operations) may still come: skip them.
      while (!answered) {
        const m = await recvWithin<{ seq: number; value?: string | null }>(
          comm,
          Math.min(o.retryMs, giveUpAt - comm.clock.now()),
          Tag.Reply,
        );
        if (!m) break;
        if (m.data.seq === seq) {
          answered = true;
          value = m.data.value ?? null;
        }
      }
      // A NotPrimary answer only says to wait for the failure detector: drop it.
      while (comm.iprobe(ANY_SOURCE, Tag.NotPrimary)) await comm.recv(ANY_SOURCE, Tag.NotPrimary);
      if (answered) {
        outcome = 'ok';
        break;
      }
    }
    // Never sent to anyone (every replica dead): definitely not executed.
    if (!sentAny) outcome = 'fail';
    record(outcome, op, outcome === 'ok' && op.f === 'get' ? value : op.f === 'get' ? null : op.value);
  }
  for (const r of replicas) send(comm, null, r, Tag.Done);
  return history;
}

export interface PrimaryBackupOutcome {
  rank: number;
  role: 'replica' | 'client';
  /** Replicas: the final store, its version, whether it ended as primary, and counters. */
  store?: Record<string, string>;
  version?: number;
  primary?: boolean;
  stats?: ReplicaState['stats'];
  /** Clients: their history. */
  history?: HistoryEvent[];
}

/**
 * Runs this rank's role (replica or client) until every client has finished its operations. Needs at
 * least replicas + 1 ranks.
 */
export async function primaryBackupMain(comm: Communicator, options: Partial<PrimaryBackupOptions> = {}): Promise<PrimaryBackupOutcome> {
  const o = { ...defaultPrimaryBackupOptions, ...options };
  if (comm.size < o.replicas + 1)
    throw new Error(`primary-backup with ${o.replicas} replicas needs at least ${o.replicas + 1} ranks, got ${comm.size}`);
  if (comm.rank >= o.replicas)
    return {
      rank: comm.rank,
      role: 'client',
      history: await clientMain(comm, o),
    };
  const s = await serve(comm, replicaMachine(), startReplica(comm.rank, comm.size, comm.clock.now(), o));
  return {
    rank: comm.rank,
    role: 'replica',
    store: s.store,
    version: s.version,
    primary: s.view === s.rank,
    stats: s.stats,
  };
}

/** Clients send their histories to the last client, which returns them all (others: undefined). */
export async function collectHistories(
  comm: Communicator,
  outcome: PrimaryBackupOutcome,
  replicas: number,
): Promise<HistoryEvent[] | undefined> {
  const collector = comm.size - 1;
  if (outcome.role !== 'client') return undefined;
  if (comm.rank !== collector) {
    await comm.send(outcome.history, collector, Tag.History);
    return undefined;
  }
  const all = [...outcome.history!];
  for (let c = replicas; c < collector; c++) all.push(...(await comm.recv<HistoryEvent[]>(c, Tag.History)).data);
  return all;
}
