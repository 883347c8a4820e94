/**
 * The one loop that runs a role written as a state machine (machine.ts): it feeds the machine every
 * message and every tick, sends what it returns, and stops when the role says it is done. A machine
 * that declares its outcome (`Machine.farewell`) is ended with the farewell of farewell.ts: the loop
 * announces the outcome and leaves only when no rank is stranded without it.
 */
import { ANY_SOURCE, ANY_TAG, isDsError, ErrorCode, type Communicator } from 'dsmpi';
import { startWithFarewell, withFarewell } from './farewell.ts';
import type { Input, Machine, Note, Out } from './machine.ts';
import { recvWithin } from './recv-within.ts';

export { others, range, toAll, type Input, type Machine, type Note, type Out } from './machine.ts';

/**
 * Runs `machine` from `state` on `comm` until it is done. Every message of any tag goes to the
 * machine, so one machine owns the communicator while it runs (compose machines by tag inside it).
 */
export async function serve<S>(comm: Communicator, machine: Machine<S>, state: S): Promise<S> {
  if (machine.farewell) {
    const start = startWithFarewell(machine.farewell, state, comm.rank, comm.size, comm.clock.now());
    return (await loop(comm, withFarewell(machine, machine.farewell), start)).state;
  }
  return loop(comm, machine, state);
}

async function loop<S>(comm: Communicator, machine: Machine<S>, state: S): Promise<S> {
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
