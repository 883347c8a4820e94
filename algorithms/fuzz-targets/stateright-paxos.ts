/**
 * A port of Stateright's single-decree Paxos example (its examples/paxos.rs: three servers, two
 * register clients that each put one value and then get it, an unordered network that neither
 * loses nor duplicates messages, and a linearizability checker over the clients' history), written
 * as state machines for the state-space search, to cross-check the search against a published
 * count: Stateright's own test asserts 16,668 unique states for this configuration.
 *
 * Stateright's semantics kept here: a delivery that leaves the receiver's state as it was and sends
 * nothing is no transition (`ignoredStay`); the history (a global auxiliary variable) is part of
 * the state; ids are 0..2 for the servers and 3..4 for the clients.
 */
import { checkStateSpace, type Monitor, type SpaceInput, type SpaceMachine, type SpaceMessage, type StateSpaceReport } from 'dsmpi/explore';

/** Message kinds, as tags: the register's and, inside it, Paxos's. */
export const Kind = { Put: 1, Get: 2, PutOk: 3, GetOk: 4, Prepare: 5, Prepared: 6, Accept: 7, Accepted: 8, Decided: 9 } as const;

type Ballot = [round: number, id: number];
type Proposal = [requestId: number, requester: number, value: string];
type Accepted = [Ballot, Proposal] | null;

export interface ServerState {
  ballot: Ballot;
  proposal: Proposal | null;
  prepares: Map<number, Accepted>;
  accepts: Set<number>;
  accepted: Accepted;
  decided: boolean;
}

export interface ClientState {
  awaiting: number | null;
  opCount: number;
}

type State = ServerState | ClientState;
type Out = { to: number; tag: number; data: unknown }[];

const SERVERS = 3;
const CLIENTS = 2;
const majority = (n: number): number => Math.floor(n / 2) + 1;

/** Rust's derived order on the tuples (and None below every Some). */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < a.length; i++) {
      const c = compare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return 0;
  }
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

function server(id: number): SpaceMachine<State> {
  const peers = [0, 1, 2].filter((p) => p !== id);
  const toPeers = (tag: number, data: unknown): Out => peers.map((to) => ({ to, tag, data }));
  return {
    wakeAtMs: () => undefined,
    done: () => false,
    step: (state, input: SpaceInput) => {
      const s = state as ServerState;
      if (input.type !== 'message') return [s, []];
      const src = input.source;
      const d = input.data as Record<string, unknown>;
      if (s.decided) {
        if (input.tag !== Kind.Get) return [s, []];
        return [s, [{ to: src, tag: Kind.GetOk, data: { requestId: d.requestId, value: s.accepted![1][2] } }]];
      }
      switch (input.tag) {
        case Kind.Put:
          if (s.proposal !== null) break;
          s.proposal = [d.requestId as number, src, d.value as string];
          s.prepares = new Map();
          s.accepts = new Set();
          s.ballot = [s.ballot[0] + 1, id]; // the Prepare to itself
          s.prepares.set(id, s.accepted); // and its Prepared
          return [s, toPeers(Kind.Prepare, { ballot: s.ballot })];
        case Kind.Prepare: {
          const ballot = d.ballot as Ballot;
          if (compare(s.ballot, ballot) >= 0) break;
          s.ballot = ballot;
          return [s, [{ to: src, tag: Kind.Prepared, data: { ballot, lastAccepted: s.accepted } }]];
        }
        case Kind.Prepared: {
          const ballot = d.ballot as Ballot;
          if (compare(ballot, s.ballot) !== 0) break;
          s.prepares.set(src, d.lastAccepted as Accepted);
          if (s.prepares.size !== majority(peers.length + 1)) return [s, []];
          // The proposal accepted in the highest ballot among the quorum, or the client's.
          let best: Accepted = null;
          for (const a of s.prepares.values()) if (compare(a, best) > 0) best = a;
          const proposal = best ? best[1] : s.proposal!;
          s.proposal = proposal;
          s.accepted = [ballot, proposal]; // the Accept to itself
          s.accepts.add(id); // and its Accepted
          return [s, toPeers(Kind.Accept, { ballot, proposal })];
        }
        case Kind.Accept: {
          const ballot = d.ballot as Ballot;
          if (compare(s.ballot, ballot) > 0) break;
          s.ballot = ballot;
          s.accepted = [ballot, d.proposal as Proposal];
          return [s, [{ to: src, tag: Kind.Accepted, data: { ballot } }]];
        }
        case Kind.Accepted: {
          const ballot = d.ballot as Ballot;
          if (compare(ballot, s.ballot) !== 0) break;
          s.accepts.add(src);
          if (s.accepts.size !== majority(peers.length + 1)) return [s, []];
          s.decided = true;
          const proposal = s.proposal!;
          return [
            s,
            [...toPeers(Kind.Decided, { ballot, proposal }), { to: proposal[1], tag: Kind.PutOk, data: { requestId: proposal[0] } }],
          ];
        }
        case Kind.Decided:
          s.ballot = d.ballot as Ballot;
          s.accepted = [d.ballot as Ballot, d.proposal as Proposal];
          s.decided = true;
          return [s, []];
      }
      return [s, []];
    },
  };
}

/** Stateright's register client with one put: Put, then on PutOk a Get to the next server. */
function client(id: number): SpaceMachine<State> {
  return {
    wakeAtMs: () => undefined,
    done: () => false,
    step: (state, input) => {
      const s = state as ClientState;
      if (input.type !== 'message' || s.awaiting === null) return [s, []];
      const d = input.data as { requestId: number };
      if (d.requestId !== s.awaiting) return [s, []];
      if (input.tag === Kind.PutOk) {
        const requestId = (s.opCount + 1) * id;
        const out = [{ to: (id + s.opCount) % SERVERS, tag: Kind.Get, data: { requestId } }];
        return [{ awaiting: requestId, opCount: s.opCount + 1 }, out];
      }
      if (input.tag === Kind.GetOk) return [{ awaiting: null, opCount: s.opCount + 1 }, []];
      return [s, []];
    },
  };
}

// ---- the history: Stateright's LinearizabilityTester over a register whose initial value is '\0' ----
type Op = { write: string } | { read: true };
type Ret = { writeOk: true } | { readOk: string };
/** Per thread (client id): the last completed operation index of every other thread when it was invoked. */
type Completed = [last: [number, number][], op: Op, ret: Ret];
export interface History {
  byThread: [number, Completed[]][];
  inFlight: [number, [last: [number, number][], op: Op]][];
  valid: boolean;
}

function onInvoke(h: History, thread: number, op: Op): History {
  if (!h.valid) return h;
  if (h.inFlight.some(([t]) => t === thread)) return { ...h, valid: false };
  const last = h.byThread.filter(([t, cs]) => t !== thread && cs.length > 0).map(([t, cs]): [number, number] => [t, cs.length - 1]);
  const inFlight = sortedBy<History['inFlight'][number]>([...h.inFlight, [thread, [last, op]]]);
  const byThread = h.byThread.some(([t]) => t === thread)
    ? h.byThread
    : sortedBy<History['byThread'][number]>([...h.byThread, [thread, []]]);
  return { byThread, inFlight, valid: true };
}

function onReturn(h: History, thread: number, ret: Ret): History {
  if (!h.valid) return h;
  const entry = h.inFlight.find(([t]) => t === thread);
  if (!entry) return { ...h, valid: false };
  const [last, op] = entry[1];
  const byThread = h.byThread.some(([t]) => t === thread) ? h.byThread : sortedBy([...h.byThread, [thread, []]]);
  return {
    byThread: byThread.map(([t, cs]) => [t, t === thread ? [...cs, [last, op, ret] as Completed] : cs]),
    inFlight: h.inFlight.filter(([t]) => t !== thread),
    valid: true,
  };
}

function sortedBy<T extends [number, unknown]>(xs: T[]): T[] {
  return xs.sort((a, b) => a[0] - b[0]);
}

/** Whether the history has a linearization: a total order of its operations that respects real time and the register. */
export function linearizable(h: History): boolean {
  if (!h.valid) return false;
  const remaining = new Map(h.byThread.map(([t, cs]) => [t, cs.map((c, i) => [i, c] as const)]));
  return serialize('\0', remaining, new Map(h.inFlight));
}

function serialize(
  register: string,
  remaining: Map<number, (readonly [number, Completed])[]>,
  inFlight: Map<number, [[number, number][], Op]>,
): boolean {
  if ([...remaining.values()].every((cs) => cs.length === 0)) return true;
  const blocked = (last: [number, number][], rem: Map<number, (readonly [number, Completed])[]>): boolean =>
    last.some(([peer, minTime]) => {
      const next = rem.get(peer)?.[0];
      return next !== undefined && next[0] <= minTime;
    });
  for (const [thread, cs] of remaining) {
    if (cs.length === 0) {
      const f = inFlight.get(thread);
      if (!f) continue;
      if (blocked(f[0], remaining)) continue;
      const flight = new Map(inFlight);
      flight.delete(thread);
      if (serialize('write' in f[1] ? f[1].write : register, remaining, flight)) return true;
    } else {
      const rest = new Map(remaining);
      rest.set(thread, cs.slice(1));
      const [last, op, ret] = cs[0][1];
      if (blocked(last, rest)) continue;
      if ('write' in op) {
        if (!('writeOk' in ret)) continue;
        if (serialize(op.write, rest, inFlight)) return true;
      } else {
        if (!('readOk' in ret) || ret.readOk !== register) continue;
        if (serialize(register, rest, inFlight)) return true;
      }
    }
  }
  return false;
}

const history: Monitor<History> = {
  initial: { byThread: [], inFlight: [], valid: true },
  // Invocations when a client sends Put or Get; returns when a client receives PutOk or GetOk.
  sent: (h, m: SpaceMessage) => {
    const d = m.data as { value?: string };
    if (m.tag === Kind.Put) return onInvoke(h, m.from, { write: d.value! });
    if (m.tag === Kind.Get) return onInvoke(h, m.from, { read: true });
    return undefined;
  },
  delivered: (h, m: SpaceMessage) => {
    const d = m.data as { value?: string };
    if (m.tag === Kind.GetOk) return onReturn(h, m.to, { readOk: d.value! });
    if (m.tag === Kind.PutOk) return onReturn(h, m.to, { writeOk: true });
    return undefined;
  },
};

/** Stateright's configuration: 3 servers, 2 clients, each client putting one value ('A', 'B'). */
export function checkStaterightPaxos(): StateSpaceReport {
  const start: ServerState = { ballot: [0, 0], proposal: null, prepares: new Map(), accepts: new Set(), accepted: null, decided: false };
  const clients = Array.from({ length: CLIENTS }, (_, k) => SERVERS + k);
  // Each client's first Put, sent as it starts: value 'A' + k, request id = its id, to server id mod 3.
  const messages: SpaceMessage[] = clients.map((id, k) => ({
    from: id,
    to: id % SERVERS,
    tag: Kind.Put,
    data: { requestId: id, value: String.fromCharCode(65 + k) },
  }));
  return checkStateSpace<State, History>({
    nodes: [
      ...[0, 1, 2].map((id) => ({ rank: id, machine: server(id), state: structuredClone(start) as State })),
      ...clients.map((id) => ({ rank: id, machine: client(id), state: { awaiting: id, opCount: 1 } as State })),
    ],
    messages,
    ignoredStay: true,
    monitor: history,
    always: ({ monitor }) => (linearizable(monitor) ? undefined : 'the register history is not linearizable'),
  });
}
