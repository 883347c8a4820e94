// examples/raft.ts under dsrun on real processes: every rank's last line is `log [...]`, the same
// log with every client's commands; killing the leader makes the others elect another and go on
// (test/fixtures/raft-live.ts: the same program, saying live which rank leads).
import t, { type Test } from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

/** Each rank's output lines, by rank. */
function linesByRank(stdout: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of stdout.split('\n')) {
    const m = /^\[rank (\d+)\] (.*)$/.exec(line);
    if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), m[2]]);
  }
  return out;
}

const commands = (n: number, perClient: number): string[] =>
  Array.from({ length: n }, (_, c) => Array.from({ length: perClient }, (_, i) => `c${c}-${i}`))
    .flat()
    .sort();

/** Checks every listed rank ends with the same complete log; returns the leader each rank knew last. */
function checkLogs(t: Test, stdout: string, ranks: number[], n: number, perClient: number): { leader: number; term: number }[] {
  const lines = linesByRank(stdout);
  const logs = ranks.map((r) => {
    const last = lines.get(r)?.at(-1) ?? '';
    t.match(last, /^log \[/, `rank ${r}'s last line is its log`);
    return last;
  });
  t.equal(new Set(logs).size, 1, 'state machine safety: one log on every rank');
  t.same((JSON.parse(logs[0].slice(4)) as string[]).sort(), commands(n, perClient), "every client's commands, once each");
  return ranks.map((r) => {
    const m = /^leader (\d+) term (\d+)$/.exec(lines.get(r)?.at(-2) ?? '');
    t.ok(m, `rank ${r} names its leader and term`);
    return { leader: Number(m?.[1]), term: Number(m?.[2]) };
  });
}

t.test('raft at n = 5, then with the leader killed mid-run: the survivors elect another and finish the same log', async (t) => {
  const plain = await dsrun(['-n', '5', '--seed', '7', '--timeout', '60', 'examples/raft.ts', '100'], { limitMs: 90_000 });
  t.equal(plain.code, 0, plain.stderr);
  const known = checkLogs(t, plain.stdout, [0, 1, 2, 3, 4], 5, 100);
  t.equal(new Set(known.map((k) => `${k.leader}@${k.term}`)).size, 1, `one leader at the end: ${JSON.stringify(known)}`);
  t.match(plain.stdout, /term \d+: rank \d+ became leader/, 'a leader announced its term');

  // Which rank wins depends on timing, so the test kills the leader this run has: the one that says
  // first that it committed 50 entries in its term.
  const pids: number[] = [];
  let victim: { rank: number; term: number } | undefined;
  const killed = await dsrun(['-n', '5', '--seed', '7', '--timeout', '60', 'test/fixtures/raft-live.ts', '100'], {
    limitMs: 90_000,
    onLine: (line) => {
      const pid = /^\[rank (\d)\] pid (\d+)$/.exec(line);
      if (pid) pids[Number(pid[1])] = Number(pid[2]);
      const led = /^\[rank (\d)\] leader of term (\d+) committed 50 entries$/.exec(line);
      if (led && !victim) {
        victim = { rank: Number(led[1]), term: Number(led[2]) };
        process.kill(pids[victim.rank], 'SIGKILL');
      }
    },
  });
  if (!victim) return t.fail(`no leader said it committed 50 entries:\n${killed.stdout}\n${killed.stderr}`);
  const { rank, term } = victim;
  t.match(killed.stderr, new RegExp(`rank ${rank} was lost`));
  const survivors = [0, 1, 2, 3, 4].filter((r) => r !== rank);
  const after = checkLogs(t, killed.stdout, survivors, 5, 100);
  t.ok(
    after.every((k) => k.leader !== rank && k.term > term),
    `a new leader in a term after ${term}, rank ${rank}'s: ${JSON.stringify(after)}`,
  );
});
