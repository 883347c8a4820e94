/** The canonical small message of the benchmarks: what a Paxos accept looks like (32 bytes packed). */
export const smallMessage = (round: number): { tag: string; value: number; round: number } => ({ tag: 'accept', value: 123456789, round });

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/** Per iteration of a loop on one rank: CPU µs (user + system), voluntary and involuntary context switches. */
export type Usage = [cpuUs: number, voluntary: number, involuntary: number];

/** The usage per iteration between two readings of process.resourceUsage() around `iterations` iterations. */
export function usagePerIteration(before: NodeJS.ResourceUsage, after: NodeJS.ResourceUsage, iterations: number): Usage {
  return [
    (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / iterations,
    (after.voluntaryContextSwitches - before.voluntaryContextSwitches) / iterations,
    (after.involuntaryContextSwitches - before.involuntaryContextSwitches) / iterations,
  ];
}

/**
 * One loop's usage summed over the ranks (`usages[rank][loop]`), less loop `minus`'s if given: CPU
 * µs in all and at rank 0 (the star collectives' hub, which sends and receives p − 1 messages where
 * the others handle one or two), wake-ups (voluntary switches) in all, at rank 0 and at the others,
 * and preemptions.
 */
export function wakeupFigures(usages: Usage[][], loop: number, minus?: number) {
  const sum = (k: number, ranks: Usage[][]): number => ranks.reduce((s, r) => s + r[loop][k] - (minus === undefined ? 0 : r[minus][k]), 0);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    cpuUs: round(sum(0, usages)),
    cpuUsRank0: round(sum(0, usages.slice(0, 1))),
    wakeups: round(sum(1, usages)),
    wakeupsRank0: round(sum(1, usages.slice(0, 1))),
    wakeupsOthers: round(sum(1, usages.slice(1))),
    preemptions: round(sum(2, usages)),
  };
}
