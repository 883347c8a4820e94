/** The canonical small message of the benchmarks: what a Paxos accept looks like (32 bytes packed). */
export const smallMessage = (round: number): { tag: string; value: number; round: number } => ({ tag: 'accept', value: 123456789, round });

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
