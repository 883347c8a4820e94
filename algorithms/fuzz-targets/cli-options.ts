import { InvalidArgumentError } from 'commander';

/** A commander parser of an integer option at least `min`, with an error that names the option. */
export const integer =
  (what: string, min: number) =>
  (raw: string): number => {
    const x = Number(raw);
    if (!Number.isInteger(x) || x < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got '${raw}'`);
    return x;
  };
