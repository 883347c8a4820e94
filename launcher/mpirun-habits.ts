/**
 * mpirun's habits on dsrun's command line (the table in docs/dsrun.md): its single-dash long options
 * (`-np 4`, `-hostfile hosts`) become dsrun's, and the mpirun options dsrun has no use for are
 * refused with the reason, instead of an "unknown option". Only the options before the program are
 * looked at: what follows it belongs to the program.
 */

/** mpirun's spelling → dsrun's. */
const SPELLINGS: Record<string, string> = {
  '-np': '--np',
  '-host': '--hosts',
  '--host': '--hosts',
  '-hostfile': '--hostfile',
  '-machinefile': '--hostfile',
  '--machinefile': '--hostfile',
  '-oversubscribe': '--oversubscribe',
  '-tag-output': '--tag-output',
  '-allow-run-as-root': '--allow-run-as-root',
  '-timeout': '--timeout',
  '-npernode': '--npernode',
};

/** mpirun options dsrun refuses: how many values follow them, and why they do not apply. */
const UNSUPPORTED: Record<string, { values: number; why: string }> = {
  '--map-by': { values: 1, why: "dsrun places ranks in order, filling each host's slots (--hosts a:4,b:4)" },
  '--rank-by': { values: 1, why: "dsrun numbers ranks in order, filling each host's slots" },
  '--bind-to': { values: 1, why: 'ranks are not pinned to cores; the operating system schedules them' },
  '--report-bindings': { values: 0, why: 'ranks are not pinned to cores' },
  '--mca': { values: 2, why: 'dsrun has no MCA parameters (its ranks talk over WebSockets, or --threads)' },
  '-mca': { values: 2, why: 'dsrun has no MCA parameters (its ranks talk over WebSockets, or --threads)' },
  '--wdir': { values: 1, why: 'ranks start in the directory dsrun was started in' },
};

/** Thrown for an mpirun option dsrun does not support; the message is the whole explanation. */
export class NotSupported extends Error {}

/**
 * Rewrites mpirun's spellings in the options before the program. `takesValue(flag)` tells whether
 * one of dsrun's options is followed by a value (so that value is not taken for the program).
 */
export function mpirunSpellings(argv: string[], takesValue: (flag: string) => boolean): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i];
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const unsupported = Object.hasOwn(UNSUPPORTED, flag) ? UNSUPPORTED[flag] : undefined;
    if (unsupported) throw new NotSupported(`not supported: ${flag}: ${unsupported.why}`);
    const spelled = Object.hasOwn(SPELLINGS, flag) ? SPELLINGS[flag] : flag;
    out[i] = eq < 0 ? spelled : spelled + arg.slice(eq);
    if (eq < 0 && takesValue(spelled)) i++;
  }
  return out;
}
