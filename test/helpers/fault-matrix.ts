// Runs a consensus or commit example under dsrun's fault flags, n by n, and hands each run's output
// to the example's own check of its outcome (test/e2e/fault-matrix/). The ranks run as
// threads (dsrun --threads): one process per job, the cheapest mode in which --kill, --drop and
// --partition still act as they do on processes (docs/threads.md). Every run has a fixed --seed, and
// no heartbeats: on a starved machine they declare live ranks lost (the kills are seen as exits).
// The specs of the six examples are at the end; each test file runs one example at one n under two
// of the faults (two jobs, run side by side), so that a file stays within tap's per-file timeout on
// a loaded machine.
import type { Test } from 'tap';
import { dsrun, type DsrunResult } from './dsrun.ts';

export type Fault = 'drop' | 'kill at start' | 'kill mid-run' | 'one-way partition';
export const faults: Fault[] = ['drop', 'kill at start', 'kill mid-run', 'one-way partition'];

/** What a run left: each rank's output lines, the ranks that finished, the killed rank. */
export interface Outcome {
  n: number;
  fault: Fault;
  lines: Map<number, string[]>;
  survivors: number[];
  victim: number | undefined;
  result: DsrunResult;
}

export interface MatrixSpec {
  program: string;
  /** The n it runs at (the test files take one n each). */
  ns: number[];
  /** The program's arguments for this case. */
  args(n: number, fault: Fault): string[];
  /** The rank a --kill takes, and when, in the mid-run case (a dsrun time, e.g. 0.5s). */
  victim(n: number, fault: Fault): number;
  killMidAt(n: number): string;
  /** Checks the algorithm's outcome from the output. */
  check(t: Test, o: Outcome): void;
}

/** The fault flags of a case: loss, a kill, or rank 0's messages to the others cut for 1 s. */
export function faultFlags(spec: MatrixSpec, n: number, fault: Fault): string[] {
  const others = Array.from({ length: n - 1 }, (_, i) => i + 1).join(',');
  switch (fault) {
    case 'drop':
      return ['--drop', '0.1'];
    case 'kill at start':
      return ['--kill', `${spec.victim(n, fault)}@0s`];
    case 'kill mid-run':
      return ['--kill', `${spec.victim(n, fault)}@${spec.killMidAt(n)}`];
    case 'one-way partition':
      return ['--partition', `0>${others}@0s..1s`];
  }
}

/** Each rank's output lines, by rank. */
export function linesByRank(stdout: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of stdout.split('\n')) {
    const m = /^\[rank (\d+)\] (.*)$/.exec(line);
    if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), m[2]]);
  }
  return out;
}

/** The last line of each of `ranks` that matches `re`, its first group. */
export function lastMatch(t: Test, o: Outcome, ranks: number[], re: RegExp): string[] {
  return ranks.map((r) => {
    const hit = [...(o.lines.get(r) ?? [])].reverse().find((l) => re.test(l));
    t.ok(hit, `rank ${r} printed ${re}`);
    return re.exec(hit ?? '')?.[1] ?? '';
  });
}

/**
 * Runs `spec` at `n` under every fault, two jobs at a time (the machine is small), and checks each:
 * dsrun ends by itself with exit 0, a kill is reported as survived, and the spec's outcome holds.
 */
export async function runMatrix(t: Test, spec: MatrixSpec, n: number, which: Fault[] = faults): Promise<void> {
  if (!spec.ns.includes(n)) throw new Error(`${spec.program} does not run at n = ${n}`);
  const cases = [n].flatMap((n) => which.map((fault) => ({ n, fault })));
  const results = new Map<string, DsrunResult>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const { n, fault } = cases[next++];
      const flags = faultFlags(spec, n, fault);
      const started = Date.now();
      const result = await dsrun(
        [
          '--threads',
          '-n',
          String(n),
          '--seed',
          '1',
          '--timeout',
          '60',
          '--heartbeat-ms',
          '0',
          ...flags,
          spec.program,
          ...spec.args(n, fault),
        ],
        {
          limitMs: 90_000,
        },
      );
      t.comment(`${spec.program} n=${n} ${flags.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      results.set(`${n} ${fault}`, result);
    }
  };
  await Promise.all([worker(), worker()]);
  for (const { n, fault } of cases) {
    const result = results.get(`${n} ${fault}`)!;
    t.test(`n = ${n}, ${fault} (${faultFlags(spec, n, fault).join(' ')})`, async (t) => {
      t.equal(result.code, 0, `dsrun ends by itself with exit 0\n${result.stderr}`);
      const killed = fault === 'kill at start' || fault === 'kill mid-run';
      const victim = killed ? spec.victim(n, fault) : undefined;
      if (victim !== undefined) t.match(result.stderr, `rank ${victim} was lost (killed by SIGKILL`, 'the kill happened and was survived');
      const survivors = Array.from({ length: n }, (_, r) => r).filter((r) => r !== victim);
      spec.check(t, { n, fault, lines: linesByRank(result.stdout), survivors, victim, result });
    });
  }
}

/**
 * A replicated log's outcome (Raft, Sequence Paxos): every survivor's last line is `log [...]`, the
 * same log, holding each survivor's values c<rank>-0 .. c<rank>-(perClient-1) once; a killed rank's
 * values may be in it or not (it may have been killed before or after submitting them), never twice.
 */
export function checkLog(t: Test, o: Outcome, perClient: number): void {
  const logs = o.survivors.map((r) => {
    const last = o.lines.get(r)?.at(-1) ?? '';
    t.match(last, /^log \[/, `rank ${r}'s last line is its log`);
    return last;
  });
  t.equal(new Set(logs).size, 1, 'one log on every survivor');
  const log = JSON.parse(logs[0].slice(4) || '[]') as string[];
  t.equal(new Set(log).size, log.length, 'no value twice');
  const wanted = o.survivors.flatMap((r) => Array.from({ length: perClient }, (_, i) => `c${r}-${i}`));
  t.same(
    wanted.filter((v) => !log.includes(v)),
    [],
    "every survivor's values are in it",
  );
  t.same(
    log.filter((v) => !/^c(\d+)-(\d+)$/.test(v) || Number(/^c(\d+)/.exec(v)![1]) >= o.n),
    [],
    'nothing but submitted values',
  );
}

// The examples and what each must show.

/** Each survivor's outcome, from its last line `rank r: COMMITTED` (ABORTED, BLOCKED …), or 'none'. */
const outcomes = (o: Outcome): string[] =>
  o.survivors.map((r) => /^rank \d+: (COMMITTED|ABORTED|BLOCKED)/.exec(o.lines.get(r)?.at(-1) ?? '')?.[1] ?? 'none');

// examples/raft.ts under dsrun's fault flags, n = 3, 5, 7: the survivors end with one log holding
// every survivor's commands. The kill takes rank 0.
/**
 * Commands (values) per client in the log examples. The mid-run kill comes at 0.2 s, counted from
 * when every rank is up; a run of 20 values per client can be over by then on an idle machine (0.17
 * s measured for sequence Paxos at n = 3), so that case submits 200, about 1 s there.
 */
const perClient = (fault: Fault): number => (fault === 'kill mid-run' ? 200 : 20);
export const raft: MatrixSpec = {
  ns: [3, 5, 7],
  program: 'examples/raft.ts',
  args: (_n, fault) => [String(perClient(fault))],
  victim: () => 0,
  killMidAt: () => '0.2s',
  check: (t, o) => checkLog(t, o, perClient(o.fault)),
};

// examples/sequence-paxos.ts under dsrun's fault flags, n = 3, 5, 7: the survivors end with one log holding
// every survivor's values. The kill takes rank 0, the first leader.
export const sequencePaxos: MatrixSpec = {
  ns: [3, 5, 7],
  program: 'examples/sequence-paxos.ts',
  args: (_n, fault) => [String(perClient(fault))],
  victim: () => 0,
  killMidAt: () => '0.2s',
  check: (t, o) => checkLog(t, o, perClient(o.fault)),
};

// examples/leader-election.ts under dsrun's fault flags, n = 3, 5, 7: every survivor ends naming the
// same leader, a live one. The kill takes the highest rank, the
// likeliest first leader (ballots tie-break by rank).
export const leaderElection: MatrixSpec = {
  ns: [3, 5, 7],
  program: 'examples/leader-election.ts',
  // The ranks run 1.5 s, or 3 s under the mid-run kill: it comes at 0.5 s, with time left after it
  // to notice the loss and elect another leader even on a loaded machine.
  args: (_n, fault) => [fault === 'kill mid-run' ? '3000' : '1500'],
  victim: (n) => n - 1,
  killMidAt: () => '0.5s',
  check: (t, o) => {
    const leaders = lastMatch(t, o, o.survivors, /^leader (\d+)$/);
    t.equal(new Set(leaders).size, 1, `one leader: ${leaders.join(' ')}`);
    t.ok(o.survivors.includes(Number(leaders[0])), `the leader ${leaders[0]} is alive`);
  },
};

// examples/paxos.ts (single-decree) under dsrun's fault flags: every survivor ends with `decided v`,
// the same v, a client's proposal. n = 3 is skipped: the example
// needs a rank for each of its five roles (n >= 5). At n = 5 each role has one rank, so no crash of
// a proposer, acceptor or learner is survivable: the kill takes the telemetry rank (4). At n = 7
// the acceptors are ranks 2, 3, 4 and the kill takes acceptor 4.
export const paxos: MatrixSpec = {
  ns: [5, 7],
  program: 'examples/paxos.ts',
  args: () => [],
  victim: () => 4, // n = 5: telemetry; n = 7: an acceptor
  killMidAt: () => '50ms',
  check: (t, o) => {
    const decided = lastMatch(t, o, o.survivors, /^decided (.*)$/);
    t.equal(new Set(decided).size, 1, `agreement: ${decided.join(' ')}`);
    t.equal(decided[0], '40', 'the value of the only client (rank 0)');
  },
};

// The mid-run kill of the commit examples must land after the votes (3PC: after every Ack of
// PreCommit) and before the coordinator decides. Counted from when every rank is up, those take a
// few milliseconds, but a loaded machine may stall a job for a second or more: the kill comes at 2 s
// and the slow coordinator waits 5 s to decide (2PC's participants wait that long for a decision,
// and 1.5 s more, before they report BLOCKED).
const SLOW_DECISION_MS = 5000;

// examples/two-phase-commit.ts under dsrun's fault flags, n = 3, 5, 7.
// Every rank votes yes. 2PC tolerates loss and partitions (it resends): everyone commits. A kill of
// the coordinator at start: the participants abort (or, those that voted, block), never commit. A
// kill of the coordinator in the slow-coordinator scenario, after the votes and before its decision:
// 2PC's documented blocking, every participant that voted reports BLOCKED and the job ends. At n = 5
// the mid-run kill takes a participant instead, after its vote: the others commit without its ack.
const participantKilledMidRun = (n: number): boolean => n === 5;
export const twoPhaseCommit: MatrixSpec = {
  ns: [3, 5, 7],
  program: 'examples/two-phase-commit.ts',
  args: (_n, fault) => (fault === 'kill mid-run' ? ['slow-coordinator', String(SLOW_DECISION_MS)] : []),
  victim: (n, fault) => (fault === 'kill mid-run' && participantKilledMidRun(n) ? n - 1 : 0),
  killMidAt: () => '2s',
  check: (t, o) => {
    const got = outcomes(o);
    t.notOk(got.includes('none'), `every survivor ends with an outcome: ${got.join(' ')}`);
    t.notOk(got.includes('COMMITTED') && got.includes('ABORTED'), 'atomicity: not both committed and aborted');
    if (o.fault === 'drop' || o.fault === 'one-way partition' || (o.fault === 'kill mid-run' && participantKilledMidRun(o.n)))
      t.same([...new Set(got)], ['COMMITTED'], 'everyone commits');
    else if (o.fault === 'kill at start') t.notOk(got.includes('COMMITTED'), `nobody commits without a coordinator: ${got.join(' ')}`);
    else {
      const voted = o.survivors.filter((r) => o.lines.get(r)?.includes(`rank ${r} -> READY`));
      t.same(voted, o.survivors, 'every participant voted yes before the kill');
      t.same([...new Set(got)], ['BLOCKED'], `blocked: ${got.join(' ')}`);
    }
  },
};

// examples/three-phase-commit.ts under dsrun's fault flags, n = 3, 5, 7.
// Every rank votes yes. A kill at start (the coordinator, or at n = 5 a participant): the others time
// out and all abort, nobody blocks. A kill of the coordinator in the slow-coordinator scenario, after
// every Ack of PreCommit: the participants, PRECOMMITTED, time out and all commit. Loss and
// partitions are outside 3PC's model (it does not resend; see the example's header): under them every
// rank must still end with COMMITTED or ABORTED, but atomicity is not asserted.
export const threePhaseCommit: MatrixSpec = {
  ns: [3, 5, 7],
  program: 'examples/three-phase-commit.ts',
  args: (_n, fault) => (fault === 'kill mid-run' ? ['slow-coordinator', String(SLOW_DECISION_MS)] : []),
  victim: (n, fault) => (fault === 'kill at start' && n === 5 ? n - 1 : 0),
  killMidAt: () => '2s',
  check: (t, o) => {
    const got = outcomes(o);
    t.notOk(got.includes('none') || got.includes('BLOCKED'), `every survivor ends COMMITTED or ABORTED: ${got.join(' ')}`);
    if (o.fault === 'kill at start') t.same([...new Set(got)], ['ABORTED'], 'everyone aborts');
    if (o.fault === 'kill mid-run') {
      t.same([...new Set(got)], ['COMMITTED'], 'everyone commits');
      for (const r of o.survivors) t.ok(o.lines.get(r)?.includes(`rank ${r} -> PRECOMMITTED`), `rank ${r} was PRECOMMITTED`);
    }
  },
};
