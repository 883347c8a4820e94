import { DsError, ErrorCode } from '../../errors.ts';

/** One choice of an explorer: the index of the event taken in the enabled set, and whether the network loses it. */
export interface Choice {
  index: number;
  lose: boolean;
}

/** A schedule: the choices that differ from the simulator's own (index 0, delivered), by step. */
export type Schedule = Map<number, Choice>;

export const DEFAULT_CHOICE: Choice = { index: 0, lose: false };

/** `17:1,40:0x`: at step 17 take the second enabled event; at step 40 take the first and lose it. */
export function formatSchedule(schedule: Schedule): string {
  return [...schedule.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, c]) => `${step}:${c.index}${c.lose ? 'x' : ''}`)
    .join(',');
}

export function parseSchedule(text: string): Schedule {
  const schedule: Schedule = new Map();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^(\d+):(\d+)(x?)$/.exec(part);
    if (!m) {
      throw new DsError(ErrorCode.InvalidArgument, `schedule: "${part}" is not step:index or step:indexx (e.g. 17:1,40:0x), in "${text}"`);
    }
    schedule.set(Number(m[1]), { index: Number(m[2]), lose: m[3] === 'x' });
  }
  return schedule;
}

/** The deviations in a full list of choices. */
export function deviations(choices: readonly Choice[]): Schedule {
  const schedule: Schedule = new Map();
  choices.forEach((c, step) => {
    if (c.index !== 0 || c.lose) schedule.set(step, c);
  });
  return schedule;
}
