/**
 * The examples' positional arguments (`npx dsrun -n 5 examples/raft.ts 3`). A value an example cannot
 * take stops every rank at once with DS_ERR_INVALID_ARGUMENT naming the argument, rather than running
 * on NaN (which hangs a loop bound) or on a misspelt mode.
 */
import { DsError, ErrorCode } from 'dsmpi';

/** Positional argument `position` (1 = the first after the program) as an integer in min..max, or `fallback`. */
export function intArg(position: number, name: string, fallback: number, min = 0, max = Infinity): number {
  const raw = process.argv[1 + position];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    refuse(position, name, max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

/** Positional argument `position` as one of `choices`, or `fallback`. */
export function choiceArg<const C extends string>(position: number, name: string, choices: readonly C[], fallback: C): C {
  const raw = process.argv[1 + position];
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) refuse(position, name, `one of ${choices.join(', ')}`, raw);
  return raw as C;
}

function refuse(position: number, name: string, wanted: string, raw: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `argument ${position} (${name}) must be ${wanted}, got '${raw}'`);
}
