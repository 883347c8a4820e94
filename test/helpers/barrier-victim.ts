import type { Test } from 'tap';
import { dsrun } from './dsrun.ts';

/**
 * test/fixtures/barriers.ts's victim case under `flags`: the last of `n` threads is killed at 1 s
 * while the others wait in a world barrier; each survivor's barrier fails with DS_ERR_PEER_LOST and
 * the survivors then pass a barrier of their own.
 */
export async function barrierWithVictim(t: Test, n: number, flags: string[], limitMs: number): Promise<void> {
  const r = await dsrun(['-n', String(n), ...flags, '--kill', `${n - 1}@1s`, '--timeout', '30', 'test/fixtures/barriers.ts', 'victim'], {
    limitMs,
  });
  t.equal(r.code, 0, r.stderr);
  for (let i = 0; i < n - 1; i++) {
    t.match(r.stdout, `[rank ${i}] barrier with a lost rank: DS_ERR_PEER_LOST\n`);
    t.match(r.stdout, `[rank ${i}] survivors passed a barrier: ${n - 1} ranks\n`);
  }
}
