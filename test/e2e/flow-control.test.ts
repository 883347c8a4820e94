// Flow control under dsrun, over WebSockets and between threads (docs/flow-control.md).
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

const BOUND = 1024 * 1024;
/** Messages of the flood: about 400 MiB in all, with what a kept message costs, were they all held. */
const FLOOD = 300_000;
/** RSS a receiver may grow by beyond the bound: garbage not yet collected, socket and frame buffers. */
const ALLOWANCE_MIB = 96;

for (const mode of [[], ['--threads']]) {
  const on = mode.length ? 'threads' : 'WebSockets';

  t.test(`${on}: large messages arrive whole, each send's buffer reusable once it completes`, async (t) => {
    const r = await dsrun(['-n', '2', '--quiet', ...mode, 'test/fixtures/flow.ts', 'large']);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.match(/large ok/g)?.length, 2, r.stdout);
  });

  t.test(`${on}: a flood of a slow receiver with a small bound: RSS stays bounded, nothing lost or reordered`, async (t) => {
    const r = await dsrun(['-n', '2', '--quiet', ...mode, '--recv-buffer', String(BOUND), 'test/fixtures/flow.ts', 'flood', String(FLOOD), String(BOUND)], {
      limitMs: 180_000,
    });
    t.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as { received: number; held: number; growthMiB: number };
    t.equal(result.received, FLOOD);
    t.ok(result.held <= BOUND, `held ${result.held} bytes at the bound of ${BOUND}`);
    t.ok(result.held > BOUND / 2, `the buffer filled (${result.held} bytes) while the receiver waited`);
    t.ok(result.growthMiB < BOUND / 2 ** 20 + ALLOWANCE_MIB, `RSS grew by ${result.growthMiB.toFixed(1)} MiB`);
  });
}
