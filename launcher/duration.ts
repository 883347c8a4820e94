/**
 * Times on dsrun's command line: a number with a unit (`200ms`, `1.5s`, `1m`) or a plain number in
 * the flag's own unit (seconds everywhere, except flags whose name ends in `-ms`).
 */
export function parseDuration(text: string, plainUnit: 'ms' | 's' = 's'): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a time; write e.g. 200ms, 1.5s, 1m or plain ${plainUnit === 's' ? 'seconds' : 'milliseconds'}`);
  const unit = m[2] ?? plainUnit;
  return Number(m[1]) * (unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
}
