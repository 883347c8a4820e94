import { ExitCode, type JobAction, type JobState } from './job-state.ts';

type Report = Extract<JobAction, { do: 'log' } | { do: 'write' }>;

/**
 * How the job ended, once every rank has exited at epoch ms `endedAt`: dsrun's exit code, and what
 * it says last on stderr (the --kill and --pause flags that never fired and why, the failure that
 * decided the code, or the deaths the survivors outlived). Pure, like the job's state machine.
 */
export function outcome(job: JobState, endedAt: number): { code: number; report: Report[] } {
  const report = unfired(job, endedAt - job.t0);
  if (job.timedOut) return { code: ExitCode.timeout, report };
  const failure = job.failure;
  if (failure) {
    if (failure.rank >= 0) {
      const [first, ...rest] = failure.reason.split('\n');
      report.push({ do: 'log', line: `rank ${failure.rank} failed (exit code ${failure.code}): ${first}` });
      if (rest.length > 0) report.push({ do: 'write', text: rest.map((l) => `  ${l.trim()}`).join('\n') + '\n' });
    }
    return { code: failure.code === 0 ? 1 : failure.code, report };
  }
  for (const d of job.survived)
    report.push({ do: 'log', line: `rank ${d.rank} was lost (${d.reason.split('\n')[0]}); the survivors finished` });
  return { code: ExitCode.ok, report };
}

/** One line per --kill or --pause flag that was never carried out, saying why. */
function unfired(job: JobState, endedMs: number): Report[] {
  const flags = [
    ...job.plan.kill.map((f, i) => ({ f, fired: job.firedKills.includes(i), text: `--kill ${f.rank}@${f.atMs / 1000}s` })),
    ...job.plan.pause.map((f, i) => ({
      f,
      fired: job.firedPauses.includes(i),
      text: `--pause ${f.rank}@${f.atMs / 1000}s+${f.forMs / 1000}s`,
    })),
  ];
  return flags.filter((x) => !x.fired).map(({ f, text }) => ({ do: 'log', line: `${text} did not fire: ${whyNot(job, f, endedMs)}` }));
}

function whyNot(job: JobState, f: { rank: number; atMs: number }, endedMs: number): string {
  if (!job.started) return 'the job ended before every rank had started';
  const exitedAt = job.ranks[f.rank].exitedAt;
  if (exitedAt !== undefined && exitedAt - job.t0 < f.atMs)
    return `rank ${f.rank} had ended at ${((exitedAt - job.t0) / 1000).toFixed(2)} s`;
  return `the job ended at ${(endedMs / 1000).toFixed(2)} s`;
}
