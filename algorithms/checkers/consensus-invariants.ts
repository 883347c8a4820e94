/**
 * Invariant checkers for consensus-like algorithms, for any test (simulation or real runs). Each
 * throws an Error naming the broken invariant and the evidence, and returns nothing when it holds.
 * Values are compared by their JSON text, so any plain data works.
 */

const text = (v: unknown): string => JSON.stringify(v);

export class InvariantError extends Error {
  constructor(invariant: string, detail: string) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'InvariantError';
  }
}

/**
 * Single-decree consensus. `decided[r]` is rank r's decision (undefined if it has none, e.g. it
 * crashed). Agreement: all decisions are equal. Validity: the decision is one of `proposed`.
 * With `requireAll`, every rank listed must have decided (termination).
 */
export function checkConsensus(
  decided: ReadonlyArray<unknown>,
  proposed: ReadonlyArray<unknown>,
  options: { requireAll?: readonly number[] } = {},
): void {
  const values = new Map<string, number[]>();
  decided.forEach((v, r) => {
    if (v === undefined) return;
    values.set(text(v), [...(values.get(text(v)) ?? []), r]);
  });
  if (values.size > 1) {
    throw new InvariantError('agreement', [...values].map(([v, ranks]) => `ranks ${ranks.join(',')} decided ${v}`).join('; '));
  }
  const allowed = new Set(proposed.map(text));
  for (const v of values.keys())
    if (!allowed.has(v)) throw new InvariantError('validity', `decided ${v}, which nobody proposed (${[...allowed].join(', ')})`);
  for (const r of options.requireAll ?? [])
    if (decided[r] === undefined) throw new InvariantError('termination', `rank ${r} decided nothing`);
}

function isPrefix(a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): boolean {
  return a.length <= b.length && a.every((v, i) => text(v) === text(b[i]));
}

/** One observation of a learner's decided log at some moment. */
export interface LogObservation {
  rank: number;
  log: ReadonlyArray<unknown>;
  atMs?: number;
}

/**
 * The prefix invariant of a replicated log, over every observation made during a run (in the order
 * made): each rank's decided log only grows (no decided entry changes or disappears), and any two
 * decided logs, of any ranks at any times, are prefixes of one another.
 */
export function checkPrefixInvariant(observations: ReadonlyArray<LogObservation>): void {
  const last = new Map<number, LogObservation>();
  let longest: LogObservation | undefined;
  for (const o of observations) {
    const before = last.get(o.rank);
    if (before && !isPrefix(before.log, o.log)) {
      throw new InvariantError('prefix (monotonic)', `rank ${o.rank}'s decided log went from ${text(before.log)} to ${text(o.log)}`);
    }
    last.set(o.rank, o);
    if (!longest || o.log.length > longest.log.length) longest = o;
  }
  for (const o of observations) {
    if (!isPrefix(o.log, longest!.log)) {
      throw new InvariantError(
        'prefix',
        `rank ${o.rank} decided ${text(o.log)}${o.atMs !== undefined ? ` at ${o.atMs} ms` : ''}, rank ${longest!.rank} decided ${text(longest!.log)}`,
      );
    }
  }
}

/**
 * A finished log: holds every value of `submitted` exactly once and nothing else (integrity, and no
 * lost entry).
 */
export function checkCompleteLog(rank: number, log: ReadonlyArray<unknown>, submitted: ReadonlyArray<unknown>): void {
  const seen = new Set<string>();
  for (const v of log) {
    if (seen.has(text(v))) throw new InvariantError('integrity', `rank ${rank}'s log holds ${text(v)} twice: ${text(log)}`);
    seen.add(text(v));
  }
  const want = new Set(submitted.map(text));
  for (const v of seen) if (!want.has(v)) throw new InvariantError('integrity', `rank ${rank}'s log holds ${v}, which nobody submitted`);
  for (const v of want) if (!seen.has(v)) throw new InvariantError('no lost entry', `rank ${rank}'s final log lacks ${v}: ${text(log)}`);
}

/**
 * At most one leader per ballot: `claims` are (ballot, leader) pairs as any rank saw them (won or
 * adopted). Ballots are compared by their text.
 */
export function checkOneLeaderPerBallot(claims: Iterable<{ ballot: string; leader: number; seenBy?: number }>): void {
  const byBallot = new Map<string, { leader: number; seenBy?: number }>();
  for (const c of claims) {
    const first = byBallot.get(c.ballot);
    if (first && first.leader !== c.leader) {
      throw new InvariantError(
        'one leader per ballot',
        `ballot ${c.ballot} has leader ${first.leader} (seen by ${first.seenBy ?? '?'}) and ${c.leader} (seen by ${c.seenBy ?? '?'})`,
      );
    }
    if (!first) byBallot.set(c.ballot, c);
  }
}

/**
 * A failure detector's final report. Completeness: every rank in `crashed` is suspected by every
 * correct rank. Accuracy (eventual, checked at the end of a run whose faults have healed): no correct
 * rank suspects a correct rank. `suspects[r]` is undefined for a crashed rank.
 */
export function checkDetector(
  suspects: ReadonlyArray<readonly number[] | undefined>,
  crashed: readonly number[],
  options: { accuracy?: boolean } = {},
): void {
  suspects.forEach((list, r) => {
    if (list === undefined || crashed.includes(r)) return;
    for (const c of crashed)
      if (!list.includes(c))
        throw new InvariantError('completeness', `rank ${r} does not suspect crashed rank ${c} (suspects ${text(list)})`);
    if (options.accuracy ?? true) {
      for (const s of list)
        if (!crashed.includes(s)) throw new InvariantError('eventual accuracy', `rank ${r} still suspects correct rank ${s}`);
    }
  });
}
