import { DsError, ErrorCode } from '../../errors.ts';

/**
 * A fault the explorer injects as a step of its own, by its stable identity: a crash of `rank`; a
 * pause of `rank` (it takes no message or timer until it resumes); or a partition that cuts `rank`
 * off from every other rank, both ways, or, with `to`, only the link `rank` → `to` (one way). How
 * long a partition or a pause lasts, and whether a crashed rank restarts, are the explorer's options
 * (`partitionMs`, `pauseMs`, `restartAfterMs`).
 */
export interface FaultChoice {
  kind: 'crash' | 'partition' | 'pause';
  rank: number;
  to?: number;
}

/**
 * One choice of an explorer: the index of the event taken in the enabled set, and whether the network
 * loses it; or, with `fault`, that fault injected instead of an event (`index` 0, `lose` false).
 */
export interface Choice {
  index: number;
  lose: boolean;
  fault?: FaultChoice;
}

/** A schedule: the choices that differ from the simulator's own (index 0, delivered), by step. */
export type Schedule = Map<number, Choice>;

export const DEFAULT_CHOICE: Choice = { index: 0, lose: false };

/** A fault's name in a schedule: `c2` (crash rank 2), `s2` (suspend rank 2), `p2` (cut rank 2 off), `p0>1` (cut the link 0 → 1). */
export function faultText(f: FaultChoice): string {
  return `${LETTER[f.kind]}${f.rank}${f.to === undefined ? '' : `>${f.to}`}`;
}

const LETTER = { crash: 'c', pause: 's', partition: 'p' } as const;
const KIND = { c: 'crash', s: 'pause', p: 'partition' } as const;

/** Whether two fault choices are the same fault. */
export function sameFault(a: FaultChoice, b: FaultChoice): boolean {
  return a.kind === b.kind && a.rank === b.rank && a.to === b.to;
}

/**
 * `17:1,40:0x,52:c2`: at step 17 take the second enabled event; at step 40 take the first and lose
 * it; at step 52 crash rank 2 (`s2`: pause rank 2; `p2`: cut rank 2 off; `p0>1`: cut the link 0 → 1).
 */
export function formatSchedule(schedule: Schedule): string {
  return [...schedule.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, c]) => `${step}:${c.fault ? faultText(c.fault) : `${c.index}${c.lose ? 'x' : ''}`}`)
    .join(',');
}

export function parseSchedule(text: string): Schedule {
  const schedule: Schedule = new Map();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^(\d+):(?:(\d+)(x?)|([csp])(\d+)(?:>(\d+))?)$/.exec(part);
    if (!m || (m[4] !== undefined && m[4] !== 'p' && m[6] !== undefined)) {
      throw new DsError(
        ErrorCode.InvalidArgument,
        `schedule: "${part}" is not step:index or step:indexx (e.g. 17:1,40:0x), nor a fault step:cR, step:sR, step:pR or step:pA>B (e.g. 52:c2), in "${text}"`,
      );
    }
    const step = Number(m[1]);
    if (m[4] === undefined) schedule.set(step, { index: Number(m[2]), lose: m[3] === 'x' });
    else {
      const fault: FaultChoice = { kind: KIND[m[4] as keyof typeof KIND], rank: Number(m[5]) };
      if (m[6] !== undefined) fault.to = Number(m[6]);
      schedule.set(step, { index: 0, lose: false, fault });
    }
  }
  return schedule;
}

/** The deviations in a full list of choices. */
export function deviations(choices: readonly Choice[]): Schedule {
  const schedule: Schedule = new Map();
  choices.forEach((c, step) => {
    if (c.index !== 0 || c.lose || c.fault) schedule.set(step, c);
  });
  return schedule;
}
