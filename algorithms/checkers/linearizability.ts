/**
 * A linearizability checker: Wing & Gong's search with Lowe's memoisation (the algorithm of
 * Porcupine and Knossos' "linear" checker). A history is a set of operations, each with the time it
 * was invoked and the time it returned; it is linearizable if every operation can be given one
 * instant inside its interval such that the sequence of operations, in that order, is legal for the
 * sequential model. Operations with an unknown outcome (Jepsen's `:info`) return "at the end of
 * time" with an unknown output: they may take effect at any point after their invocation, or never.
 */

export interface Operation<I, O> {
  /** Who issued it (a client or process id); for reports only. */
  client: number | string;
  input: I;
  /** The observed output; undefined when unknown (an indefinite outcome). */
  output: O | undefined;
  /** Invocation time. */
  call: number;
  /** Return time; Infinity when the operation never returned (indefinite). */
  ret: number;
}

export interface Model<S, I, O> {
  init(): S;
  /**
   * Applies `input` to `state`: whether `output` is what the sequential object would answer (always
   * true when `output` is undefined), and the next state.
   */
  step(state: S, input: I, output: O | undefined): [legal: boolean, next: S];
  /** A string that identifies the state (for memoisation). */
  key(state: S): string;
  /** Splits a history into independent ones (e.g. per key); linearizability is local. */
  partition?(history: Operation<I, O>[]): Operation<I, O>[][];
  /** Whether an operation left the state unchanged (a read, a failed cas): only those are dropped from witnesses. */
  readOnly?(op: Operation<I, O>): boolean;
  describe?(op: Operation<I, O>): string;
}

export interface CheckOptions {
  /** Give up after this long (ms of wall time) with verdict 'unknown'. Default 60 s. */
  timeoutMs?: number;
  /** Look for a small illegal sub-history when the verdict is false. Default true. */
  explain?: boolean;
  /**
   * The explanation's own budget (ms of wall time, counted from the verdict; default 10 s): past it
   * the smallest illegal sub-history found so far is returned, with `minimal: false`.
   */
  explainMs?: number;
}

export interface CheckResult<I, O> {
  verdict: 'linearizable' | 'not-linearizable' | 'unknown';
  /**
   * For a violation: a small illegal sub-history. It is the shortest illegal prefix of the history
   * (operations still running at the cut become indefinite) with every read-only operation dropped
   * that is not needed: drop any one of the reads left and it becomes legal. Writes up to the
   * violation are kept, since dropping one could create a violation of its own.
   */
  illegal?: Operation<I, O>[];
  /** Whether `illegal` is as small as described above; false when the explanation's budget ran out first. */
  minimal?: boolean;
  /** The partition the violation was found in. */
  partitionIndex?: number;
  partitions: number;
}

interface Entry {
  op: number;
  isCall: boolean;
  time: number;
  prev: Entry | undefined;
  next: Entry | undefined;
  /** For a call: its return entry. */
  match: Entry | undefined;
}

/** Checks one partition; undefined when the time budget ran out. */
function search<S, I, O>(ops: Operation<I, O>[], model: Model<S, I, O>, deadline: number): boolean | undefined {
  if (ops.length === 0) return true;
  const events: Entry[] = [];
  ops.forEach((op, i) => {
    const call: Entry = { op: i, isCall: true, time: op.call, prev: undefined, next: undefined, match: undefined };
    const ret: Entry = { op: i, isCall: false, time: op.ret, prev: undefined, next: undefined, match: undefined };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls before returns at equal times: touching intervals count as concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, prev: undefined, next: undefined, match: undefined };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  const lift = (call: Entry): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Entry): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const seen = new Set<string>();
  const stack: Array<[Entry, S]> = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if ((++steps & 0xfff) === 0 && performance.now() > deadline) return undefined;
    if (entry!.isCall) {
      const op = ops[entry!.op];
      const [legal, next] = model.step(state, op.input, op.output);
      if (legal) {
        linearized[entry!.op >>> 5] |= 1 << (entry!.op & 31);
        const key = `${linearized.join(',')}|${model.key(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push([entry!, state]);
          state = next;
          lift(entry!);
          entry = head.next;
          continue;
        }
        linearized[entry!.op >>> 5] &= ~(1 << (entry!.op & 31));
      }
      entry = entry!.next;
    } else {
      // A return reached with its call not linearized: undo the last choice.
      const top = stack.pop();
      if (!top) return false;
      const [call, before] = top;
      state = before;
      linearized[call.op >>> 5] &= ~(1 << (call.op & 31));
      unlift(call);
      entry = call.next;
    }
  }
  return true;
}

/** Checks a history against a model, partition by partition. */
export function checkLinearizability<S, I, O>(
  history: Operation<I, O>[],
  model: Model<S, I, O>,
  options: CheckOptions = {},
): CheckResult<I, O> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  const partitions = model.partition ? model.partition(history) : [history];
  let unknown = false;
  for (const [index, part] of partitions.entries()) {
    const ok = search(part, model, deadline);
    if (ok === undefined) {
      unknown = true;
      continue;
    }
    if (!ok) {
      if (options.explain === false) return { verdict: 'not-linearizable', partitionIndex: index, partitions: partitions.length };
      const { illegal, minimal } = shrink(part, model, performance.now() + (options.explainMs ?? 10_000));
      return { verdict: 'not-linearizable', illegal, minimal, partitionIndex: index, partitions: partitions.length };
    }
  }
  return { verdict: unknown ? 'unknown' : 'linearizable', partitions: partitions.length };
}

/**
 * Narrows an illegal history to the witness described on CheckResult.illegal; `minimal` is false
 * when the deadline cut a step short (a search that gave up counts as "not shown illegal").
 */
function shrink<S, I, O>(
  ops: Operation<I, O>[],
  model: Model<S, I, O>,
  deadline: number,
): { illegal: Operation<I, O>[]; minimal: boolean } {
  let minimal = true;
  const illegal = (h: Operation<I, O>[]): boolean => {
    const ok = search(h, model, deadline);
    if (ok === undefined) minimal = false;
    return ok === false;
  };
  const byCall = [...ops].sort((a, b) => a.call - b.call);
  const prefix = (k: number): Operation<I, O>[] => {
    const cut = byCall[k - 1].call;
    return byCall.slice(0, k).map((op) => (op.ret > cut ? { ...op, output: undefined, ret: Infinity } : op));
  };
  let lo = 1;
  let hi = byCall.length;
  while (lo < hi && performance.now() < deadline) {
    const mid = (lo + hi) >> 1;
    if (illegal(prefix(mid))) hi = mid;
    else lo = mid + 1;
  }
  if (lo < hi) minimal = false;
  let current = illegal(prefix(hi)) ? prefix(hi) : ops;
  if (!model.readOnly) return { illegal: current, minimal };
  // Drop reads while it stays illegal, until a whole pass drops none.
  for (let dropped = true; dropped;) {
    dropped = false;
    for (let i = current.length - 1; i >= 0; i--) {
      if (performance.now() >= deadline) return { illegal: current, minimal: false };
      if (!model.readOnly(current[i])) continue;
      const without = current.filter((_, j) => j !== i);
      if (illegal(without)) {
        current = without;
        dropped = true;
      }
    }
  }
  return { illegal: current, minimal };
}

/** A history as lines, one per operation, for reports. */
export function formatHistory<I, O>(ops: Operation<I, O>[], model: Model<unknown, I, O>): string {
  const fmt = (t: number): string => (t === Infinity ? '∞' : String(t));
  return [...ops]
    .sort((a, b) => a.call - b.call)
    .map(
      (op) =>
        `  client ${op.client} [${fmt(op.call)}, ${fmt(op.ret)}] ${model.describe ? model.describe(op) : JSON.stringify(op.input) + ' → ' + JSON.stringify(op.output)}`,
    )
    .join('\n');
}
