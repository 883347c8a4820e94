/**
 * The one loop that runs a role written as a state machine (DESIGN "Naming and files"): the role is
 * `step(state, input) → [state, out[]]`, deterministic and free of I/O; this loop feeds it every
 * message and every tick, sends what it returns, and stops when the role says it is done.
 *
 * Inputs carry the time (`nowMs`) and a fresh random draw (`random`), so a step never reads a clock
 * or a random source itself: given the same inputs it makes the same moves, in a unit test as in a
 * replayed simulation. A step updates `state` in place and returns it (as etcd raft's Step does).
 */
import { ANY_SOURCE, ANY_TAG, isDsError, ErrorCode, type Communicator, type DurableStorage } from 'dsmpi';
import { recvWithin } from './recv-within.ts';

/** A message a step wants sent. Sends to dead ranks are dropped silently (fire and forget). */
export interface Out {
  to: number;
  tag: number;
  data: unknown;
}

/**
 * Records a state change in the trace (`comm.note`): the loop passes it with every input, so a step
 * stays free of I/O and a unit test may leave it out. Costs nothing when the job is not traced.
 */
export type Note = (name: string, value?: unknown) => void;

export type Input =
  | { type: 'message'; source: number; tag: number; data: unknown; nowMs: number; random: number; note?: Note }
  /** Time passed: the loop calls this when `wakeAtMs(state)` is reached. `failed`: ranks the runtime reports lost. */
  | { type: 'tick'; nowMs: number; random: number; failed: readonly number[]; note?: Note };

export interface Machine<S> {
  step(state: S, input: Input): [S, Out[]];
  /** When the next tick is due (absolute, in `comm.clock` time); undefined: only messages wake it. */
  wakeAtMs(state: S): number | undefined;
  /** True once the role has finished: the loop returns its state. */
  done(state: S): boolean;
  /** Called after every step, before its messages go out (write-ahead, as acceptors need). */
  persist?(state: S, storage: DurableStorage): void;
}

/** Broadcast helper: the same message to each rank in `to`. */
export function toAll(to: Iterable<number>, tag: number, data: unknown): Out[] {
  const out: Out[] = [];
  for (const r of to) out.push({ to: r, tag, data });
  return out;
}

/** Ranks lo..hi-1. */
export function range(lo: number, hi: number): number[] {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}

/**
 * Runs `machine` from `state` on `comm` until it is done. Every message of any tag goes to the
 * machine, so one machine owns the communicator while it runs (compose machines by tag inside it).
 */
export async function serve<S>(comm: Communicator, machine: Machine<S>, state: S): Promise<S> {
  const note: Note = (name, value) => comm.note(name, value);
  const deliver = (input: Input): void => {
    const [next, out] = machine.step(state, input);
    state = next;
    machine.persist?.(state, comm.storage);
    for (const m of out) post(comm, m);
  };
  let ticksInARow = 0;
  while (!machine.done(state)) {
    const wakeAt = machine.wakeAtMs(state);
    const wake = wakeAt !== undefined && Number.isFinite(wakeAt) ? wakeAt : undefined;
    const overdue = wake !== undefined && wake <= comm.clock.now();
    // Messages first, even when the tick is overdue: a rank paused (or slow) past its deadline must
    // see what arrived in time before its timers fire (recvWithin takes those at a past deadline).
    const msg = wake === undefined ? await comm.recv(ANY_SOURCE, ANY_TAG) : await recvWithin(comm, wake - comm.clock.now());
    if (msg) {
      ticksInARow = 0;
      deliver({ type: 'message', source: msg.source, tag: msg.tag, data: msg.data, nowMs: comm.clock.now(), random: comm.random(), note });
      continue;
    }
    // A machine whose tick never moves its deadline would tick here again and again.
    if (overdue && ++ticksInARow > 10_000)
      throw new Error(`serve(): rank ${comm.rank}'s machine asks for a tick at ${wake} ms again and again (now ${comm.clock.now()} ms)`);
    if (!overdue) ticksInARow = 0;
    // The timer fired for `wake`: a clock that rounds (the simulator counts whole microseconds)
    // may read a hair earlier, and the machine must still see its deadline reached.
    deliver({ type: 'tick', nowMs: Math.max(comm.clock.now(), wake!), random: comm.random(), failed: comm.failed(), note });
  }
  return state;
}

function post(comm: Communicator, m: Out): void {
  if (comm.failed().includes(m.to)) return;
  comm.isend(m.data, m.to, m.tag).then(undefined, (err: unknown) => {
    // A peer lost while the message was on its way: nothing to do, the protocol copes with loss.
    if (!(isDsError(err) && (err.code === ErrorCode.PeerLost || err.code === ErrorCode.Closed))) throw err;
  });
}
