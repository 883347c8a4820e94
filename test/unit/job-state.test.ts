// dsrun's job state machine (launcher/job-state.ts) and its verdict (launcher/job-outcome.ts), driven
// with events and times alone: no process, no timer, no clock.
import t from 'tap';
import {
  ExitCode,
  KILL_GRACE_MS,
  newJob,
  step,
  type JobAction,
  type JobEvent,
  type JobPlan,
  type JobState,
} from '../../launcher/job-state.ts';
import { outcome } from '../../launcher/job-outcome.ts';

const T0 = 1_000_000;

/** A job whose `np` ranks have been started at T0, fed `events` ([event, ms after T0]); returns the state and every action. */
function drive(
  plan: Partial<JobPlan> & { np: number },
  events: Array<[JobEvent, number]>,
  ranks = plan.np,
): { job: JobState; actions: JobAction[] } {
  let job = newJob({ kill: [], pause: [], ...plan }, 0);
  const actions: JobAction[] = [];
  const feed = (event: JobEvent, at: number): void => {
    const [next, more] = step(job, event, T0 + at);
    job = next;
    actions.push(...more);
  };
  feed({ type: 'launch' }, 0);
  for (let rank = 0; rank < ranks; rank++) feed({ type: 'started', rank }, 0);
  for (const [event, at] of events) feed(event, at);
  return { job, actions };
}

const registerAll = (np: number, at = 10, survive = false): Array<[JobEvent, number]> =>
  Array.from({ length: np }, (_, rank) => [{ type: 'registered', rank, survive }, at]);
const exit = (rank: number, code: number, signal: string | null = null, lostReason?: string): JobEvent => ({
  type: 'exited',
  rank,
  code,
  signal,
  lostReason,
});
const of = <K extends JobAction['do']>(actions: JobAction[], kind: K): Array<Extract<JobAction, { do: K }>> =>
  actions.filter((a): a is Extract<JobAction, { do: K }> => a.do === kind);
const signalled = (actions: JobAction[], signal: string): number[] =>
  of(actions, 'signal')
    .filter((a) => a.signal === signal)
    .map((a) => a.rank);
const lines = (report: ReturnType<typeof outcome>['report']): string[] => report.map((a) => (a.do === 'log' ? `dsrun: ${a.line}` : a.text));

t.test('a clean run: time 0 when the last rank registers, finish when all are done, the end with the last exit', async (t) => {
  const { job, actions } = drive({ np: 3 }, [
    [{ type: 'registered', rank: 0, survive: false }, 5],
    [{ type: 'registered', rank: 2, survive: false }, 7],
    [{ type: 'registered', rank: 1, survive: false }, 9],
    [{ type: 'done', rank: 0 }, 20],
    [{ type: 'done', rank: 1 }, 21],
  ]);
  t.same(of(actions, 'start'), [{ do: 'start', t0: T0 + 9 }], 'started once, when the third rank registered');
  t.equal(job.t0, T0 + 9);
  t.same(of(actions, 'finish'), [], 'rank 2 is not done');
  const [done, finish] = step(job, { type: 'done', rank: 2 }, T0 + 22);
  t.same(finish, [{ do: 'finish' }]);
  const [exiting, more] = step(done, exit(0, 0), T0 + 30);
  t.same(of([...more], 'end'), [], 'ranks 1 and 2 still run');
  const [exited1, more1] = step(exiting, exit(1, 0), T0 + 31);
  const [last, end] = step(exited1, exit(2, 0), T0 + 32);
  t.same(of([...end], 'end'), [{ do: 'end' }]);
  t.same(of([...more, ...more1, ...end], 'finish'), [], 'the ranks are told the job is finished once, not again at each exit');
  t.same(outcome(last, T0 + 32), { code: ExitCode.ok, report: [] });
});

t.test('a rank that ends before it registers still counts for time 0, and as done', async (t) => {
  const { job, actions } = drive({ np: 2 }, [
    [{ type: 'registered', rank: 0, survive: false }, 5],
    [exit(1, 0), 8],
    [{ type: 'done', rank: 0 }, 20],
  ]);
  t.same(of(actions, 'start'), [{ do: 'start', t0: T0 + 8 }]);
  t.ok(job.ranks[1].done, 'an exit with 0 without done counts as done');
  t.equal(of(actions, 'finish').length, 1, 'finish once rank 0 is done too');
});

t.test("the first failure wins: a rank's non-zero exit aborts the job and decides the exit code", async (t) => {
  const { job, actions } = drive({ np: 3 }, [...registerAll(3), [exit(1, 3), 50], [exit(2, 7), 60], [exit(0, 143, 'SIGTERM'), 61]]);
  t.same(of(actions, 'announceLost'), [{ do: 'announceLost', rank: 1, reason: 'exited with code 3' }], 'only the first death is announced');
  t.same(signalled(actions, 'SIGTERM'), [0, 2], 'the others are told to stop');
  t.same(of(actions, 'after'), [{ do: 'after', ms: KILL_GRACE_MS, event: { type: 'graceOver' } }]);
  t.same(job.failure, { rank: 1, code: 3, reason: 'exited with code 3' });
  t.same(of(actions, 'trace'), [{ do: 'trace', event: { t: T0 + 50, ev: 'crash', rank: 1, reason: 'exited with code 3' } }]);
  t.same(of(actions, 'end').length, 1);
  const verdict = outcome(job, T0 + 61);
  t.equal(verdict.code, 3);
  t.same(lines(verdict.report), ['dsrun: rank 1 failed (exit code 3): exited with code 3']);
});

t.test('an abort: its code and reason win over the exit that follows; its later lines are indented', async (t) => {
  const { job, actions } = drive({ np: 2 }, [
    ...registerAll(2),
    [{ type: 'aborted', rank: 0, code: 5, reason: 'Error: boom\n    at main (x.ts:1:1)' }, 40],
    [exit(0, 5), 41],
    [exit(1, 143, 'SIGTERM'), 42],
  ]);
  t.same(signalled(actions, 'SIGTERM'), [0, 1], 'stopped at the abort, the aborting rank included');
  t.same(of(actions, 'trace'), [], 'an aborting rank reported its own end');
  t.same(of(actions, 'announceLost'), [], 'the job was already ending when it exited');
  const verdict = outcome(job, T0 + 42);
  t.equal(verdict.code, 5);
  t.same(lines(verdict.report), ['dsrun: rank 0 failed (exit code 5): Error: boom', '  at main (x.ts:1:1)\n']);
});

t.test('exit code mapping: a failure with code 0 makes dsrun exit 1; killed ranks give 128 + signal', async (t) => {
  const zero = drive({ np: 2 }, [...registerAll(2), [{ type: 'aborted', rank: 1, code: 0, reason: 'abort()' }, 20]]);
  t.equal(outcome(zero.job, T0 + 30).code, 1);
  const killed = drive({ np: 2 }, [...registerAll(2), [exit(0, 137, 'SIGKILL'), 20]]);
  t.same(killed.job.failure, { rank: 0, code: 137, reason: 'killed by SIGKILL' });
  const hostLost = drive({ np: 2 }, [...registerAll(2), [exit(0, 125, null, 'host a:7411 lost (no pong)'), 20]]);
  t.equal(hostLost.job.failure?.reason, 'host a:7411 lost (no pong)', "the spawner's reason wins over the code");
});

t.test('a rank that fails to start fails the job with 125', async (t) => {
  const { job, actions } = drive({ np: 2 }, [[{ type: 'startFailed', rank: 1, message: 'spawn ENOENT' }, 3]]);
  t.same(of(actions, 'log'), [{ do: 'log', line: 'cannot start rank 1: spawn ENOENT' }]);
  t.same(signalled(actions, 'SIGTERM'), [0]);
  t.equal(outcome(job, T0 + 5).code, ExitCode.launchFailed);
});

t.test('deaths the survivors asked to survive: no abort, reported at the end', async (t) => {
  const { job, actions } = drive({ np: 3 }, [...registerAll(3, 10, true), [exit(2, 137, 'SIGKILL'), 30], [{ type: 'done', rank: 0 }, 40]]);
  t.same(of(actions, 'announceLost'), [{ do: 'announceLost', rank: 2, reason: 'killed by SIGKILL' }]);
  t.same(signalled(actions, 'SIGTERM'), [], 'nobody is stopped');
  t.notOk(job.ending);
  const [done, finish] = step(job, { type: 'done', rank: 1 }, T0 + 41);
  t.same(finish, [{ do: 'finish' }], 'the survivors finish without the lost rank');
  const [ended] = [exit(0, 0), exit(1, 0)].reduce<[JobState, JobAction[]]>(
    ([j], e) => step(j, e, T0 + 50) as [JobState, JobAction[]],
    [done, []],
  );
  const verdict = outcome(ended, T0 + 50);
  t.equal(verdict.code, 0);
  t.same(lines(verdict.report), ['dsrun: rank 2 was lost (killed by SIGKILL); the survivors finished']);

  const one = drive({ np: 3 }, [
    [{ type: 'registered', rank: 0, survive: true }, 10],
    [{ type: 'registered', rank: 1, survive: false }, 10],
    [{ type: 'registered', rank: 2, survive: true }, 10],
    [exit(2, 1), 30],
  ]);
  t.same(one.job.failure, { rank: 2, code: 1, reason: 'exited with code 1' }, 'one survivor that did not ask makes it a failure');
});

t.test('timeout: asks the running ranks, reports, stops them; 124 wins over any failure', async (t) => {
  const { job, actions } = drive({ np: 3, timeoutSec: 10 }, [...registerAll(3), [exit(2, 0), 20], [{ type: 'timeout' }, 10_000]]);
  t.same(of(actions, 'log'), [{ do: 'log', line: 'timeout after 10 s; what each rank still running waits on:' }]);
  t.same(of(actions, 'askStatus'), [{ do: 'askStatus', ranks: [0, 1] }]);
  t.same(signalled(actions, 'SIGTERM'), [], 'nobody is stopped before the answers');
  const [stopping, reported] = step(
    job,
    {
      type: 'statuses',
      reports: [
        [0, [{ what: 'recv(source=1, tag=5)', forMs: 9_950 }]],
        [1, undefined],
      ],
    },
    T0 + 10_500,
  );
  t.same(of([...reported], 'log'), [
    { do: 'log', line: '  rank 0: recv(source=1, tag=5) for 9.9 s' },
    { do: 'log', line: '  rank 1: no answer (busy in a synchronous loop, or not started)' },
  ]);
  t.same(signalled([...reported], 'SIGTERM'), [0, 1]);
  const [failed] = step(stopping, exit(0, 143, 'SIGTERM'), T0 + 10_600);
  t.equal(failed.failure, undefined, 'exits while ending are no failure');
  t.equal(outcome(failed, T0 + 10_600).code, ExitCode.timeout);

  const late = drive({ np: 2, timeoutSec: 1 }, [...registerAll(2), [exit(0, 9), 20], [{ type: 'timeout' }, 1000]]);
  t.same(of(late.actions, 'askStatus'), [], 'a job already ending is not asked');
  t.equal(outcome(late.job, T0 + 1000).code, ExitCode.timeout, 'but dsrun still says it timed out');
  t.same(lines(outcome(late.job, T0 + 1000).report), []);
});

t.test('SIGINT to dsrun: stops the job and exits with 128 + 2, without blaming a rank', async (t) => {
  const { job, actions } = drive({ np: 2 }, [
    ...registerAll(2),
    [{ type: 'signal', signal: 'SIGINT', code: 130 }, 30],
    [{ type: 'signal', signal: 'SIGTERM', code: 143 }, 31],
  ]);
  t.same(of(actions, 'log'), [
    { do: 'log', line: 'SIGINT: stopping the job' },
    { do: 'log', line: 'SIGTERM: stopping the job' },
  ]);
  t.same(signalled(actions, 'SIGTERM'), [0, 1, 0, 1], 'each signal stops the ranks again');
  const verdict = outcome(job, T0 + 40);
  t.equal(verdict.code, 130, 'the first signal decides');
  t.same(verdict.report, []);
});

t.test('the grace period over: SIGKILL to the ranks still running only', async (t) => {
  const { job } = drive({ np: 3 }, [...registerAll(3), [exit(0, 2), 20], [exit(1, 143, 'SIGTERM'), 21]]);
  t.same(step(job, { type: 'graceOver' }, T0 + 2020)[1], [{ do: 'signal', rank: 2, signal: 'SIGKILL' }]);
});

t.test('--kill: due from time 0, traced once, the reason names the flag', async (t) => {
  const plan = { np: 2, kill: [{ rank: 1, atMs: 500 }] };
  const { job, actions } = drive(plan, [...registerAll(2, 100)]);
  t.same(of(actions, 'at'), [{ do: 'at', time: T0 + 100 + 500, event: { type: 'killDue', index: 0 } }]);
  const [killed, kill] = step(job, { type: 'killDue', index: 0 }, T0 + 600);
  t.same(kill, [
    { do: 'trace', event: { t: T0 + 600, ev: 'crash', rank: 1, reason: 'kill' } },
    { do: 'signal', rank: 1, signal: 'SIGKILL' },
  ]);
  const [failed, death] = step(killed, exit(1, 137, 'SIGKILL'), T0 + 601);
  t.same(of([...death], 'trace'), [], 'not traced twice');
  t.same(failed.failure, { rank: 1, code: 137, reason: 'killed by SIGKILL (--kill 1@500ms)' });
  t.same(outcome(failed, T0 + 700).report.length, 1, 'a fired flag is not reported');
});

t.test('--kill and --pause that never fired say why', async (t) => {
  const plan = { np: 2, kill: [{ rank: 1, atMs: 500 }], pause: [{ rank: 0, atMs: 200, forMs: 1500 }] };
  const early = drive(plan, [
    [{ type: 'registered', rank: 0, survive: false }, 5],
    [exit(1, 1), 6],
    [exit(0, 143, 'SIGTERM'), 7],
  ]);
  t.notOk(early.job.started, 'a failure before every rank registered: time 0 never came');
  t.same(lines(outcome(early.job, T0 + 7).report).slice(0, 2), [
    'dsrun: --kill 1@0.5s did not fire: the job ended before every rank had started',
    'dsrun: --pause 0@0.2s+1.5s did not fire: the job ended before every rank had started',
  ]);
  const { job } = drive(plan, [...registerAll(2, 100), [exit(1, 1), 150], [{ type: 'pauseDue', index: 0 }, 300]]);
  t.same(job.firedPauses, [], 'no pause once the job is ending');
  const [ended] = step(step(job, { type: 'killDue', index: 0 }, T0 + 600)[0], exit(0, 143, 'SIGTERM'), T0 + 700);
  t.same(ended.firedKills, [], 'a kill due after its rank ended does nothing');
  t.same(lines(outcome(ended, T0 + 700).report).slice(0, 2), [
    'dsrun: --kill 1@0.5s did not fire: rank 1 had ended at 0.05 s',
    'dsrun: --pause 0@0.2s+1.5s did not fire: the job ended at 0.60 s',
  ]);
});

t.test('--pause: SIGSTOP with the pause traced, SIGCONT after forMs unless the rank ended', async (t) => {
  const plan = { np: 2, pause: [{ rank: 0, atMs: 200, forMs: 1500 }] };
  const { job, actions } = drive(plan, [...registerAll(2, 100)]);
  t.same(of(actions, 'at'), [{ do: 'at', time: T0 + 300, event: { type: 'pauseDue', index: 0 } }]);
  const [paused, pause] = step(job, { type: 'pauseDue', index: 0 }, T0 + 302);
  t.same(pause, [
    { do: 'trace', event: { t: T0 + 302, ev: 'pause', rank: 0, untilMs: 1702 } },
    { do: 'signal', rank: 0, signal: 'SIGSTOP' },
    { do: 'after', ms: 1500, event: { type: 'resumeDue', index: 0 } },
  ]);
  t.same(step(paused, { type: 'resumeDue', index: 0 }, T0 + 1802)[1], [
    { do: 'trace', event: { t: T0 + 1802, ev: 'resume', rank: 0 } },
    { do: 'signal', rank: 0, signal: 'SIGCONT' },
  ]);
  const [gone] = step(paused, exit(0, 0), T0 + 400);
  t.same(step(gone, { type: 'resumeDue', index: 0 }, T0 + 1802)[1], [], 'no SIGCONT to a rank that ended');
});

t.test('a silent rank: ignored unless a peer survives failures, then declared lost', async (t) => {
  const plain = drive({ np: 2 }, [...registerAll(2), [{ type: 'silent', rank: 1, silentMs: 6000 }, 7000]]);
  t.same(
    plain.actions.filter((a) => a.do !== 'start'),
    [],
    '--timeout is the tool for a job that hangs',
  );

  const { job, actions } = drive({ np: 2 }, [...registerAll(2, 10, true), [{ type: 'silent', rank: 1, silentMs: 6000 }, 7000]]);
  const reason = 'no heartbeat for 6.0 s (stopped, or busy in a synchronous loop)';
  t.same(
    actions.filter((a) => a.do !== 'start'),
    [
      { do: 'log', line: `rank 1: ${reason}; declared lost` },
      { do: 'trace', event: { t: T0 + 7000, ev: 'crash', rank: 1, reason: `declared lost: ${reason}` } },
      { do: 'announceLost', rank: 1, reason },
      { do: 'signal', rank: 1, signal: 'SIGKILL' },
    ],
  );
  const [after, death] = step(job, exit(1, 137, 'SIGKILL'), T0 + 7001);
  t.same(of([...death], 'trace'), [], 'its crash is traced once');
  t.same(after.survived, [{ rank: 1, reason }], 'the survivor outlives it');
});

t.test('dynamic ranks: a spawned rank neither starts the job nor lets it end or finish before it', async (t) => {
  const { job, actions } = drive(
    { np: 2 },
    [
      [{ type: 'registered', rank: 2, survive: false }, 5],
      [{ type: 'registered', rank: 0, survive: false }, 6],
      [{ type: 'registered', rank: 1, survive: false }, 7],
      [{ type: 'done', rank: 0 }, 20],
      [{ type: 'done', rank: 1 }, 21],
      [exit(0, 0), 22],
      [exit(1, 0), 23],
    ],
    3,
  );
  t.same(of(actions, 'start'), [{ do: 'start', t0: T0 + 7 }], "time 0 waits for the job's own ranks only");
  t.same(of(actions, 'finish'), [], 'rank 2 is not done');
  t.same(of(actions, 'end'), [], 'rank 2 still runs');
  const [retired, finish] = step(job, { type: 'done', rank: 2 }, T0 + 30);
  t.same(finish, [{ do: 'finish' }], 'retire() of the spawned rank lets the job finish');
  t.same(of([...step(retired, exit(2, 0), T0 + 31)[1]], 'end'), [{ do: 'end' }]);

  const failing = drive({ np: 1 }, [...registerAll(1), [{ type: 'started', rank: 1 }, 20], [exit(1, 4), 30]]);
  t.same(failing.job.failure, { rank: 1, code: 4, reason: 'exited with code 4' }, "a spawned rank's failure fails the job");
  t.same(signalled(failing.actions, 'SIGTERM'), [0]);
});
