// Flow control under dsrun, over WebSockets and between threads (docs/flow-control.md).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseTrace } from '../../runtime/index.ts';
import { Kind } from '../../runtime/wire.ts';
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
    const r = await dsrun(
      ['-n', '2', '--quiet', ...mode, '--recv-buffer', String(BOUND), 'test/fixtures/flow.ts', 'flood', String(FLOOD), String(BOUND)],
      {
        limitMs: 180_000,
      },
    );
    t.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as { received: number; held: number; growthMiB: number };
    t.equal(result.received, FLOOD);
    t.ok(result.held <= BOUND, `held ${result.held} bytes at the bound of ${BOUND}`);
    t.ok(result.held > BOUND / 2, `the buffer filled (${result.held} bytes) while the receiver waited`);
    t.ok(result.growthMiB < BOUND / 2 ** 20 + ALLOWANCE_MIB, `RSS grew by ${result.growthMiB.toFixed(1)} MiB`);
  });
}

t.test('--drop: flow control stays on; a lost message gives its credit back, nothing waits for good', async (t) => {
  const count = 5000;
  const bound = 64 * 1024;
  const trace = join(tmpdir(), `dsmpi-flow-drop-${process.pid}.jsonl`);
  t.teardown(() => rmSync(trace, { force: true }));
  const args = ['--drop', '0.2', '--seed', '7', '--recv-buffer', String(bound), '--trace', trace];
  const r = await dsrun(['-n', '2', '--quiet', ...args, 'test/fixtures/flow.ts', 'lossy', String(count)], {
    limitMs: 180_000,
  });
  t.equal(r.code, 0, r.stderr);
  const { received, maxHeld } = JSON.parse(r.stdout.trim()) as { received: number; maxHeld: number };
  const events = parseTrace(readFileSync(trace, 'utf8'));
  const numbered = (e: { kind?: number; tag?: number }): boolean => (e.kind === Kind.Message || e.kind === Kind.Rts) && e.tag === 1;
  const dropped = events.filter((e) => e.ev === 'drop' && numbered(e)).length;
  t.ok(dropped > count / 10, `${dropped} of ${count} dropped`);
  t.equal(received, count - dropped, 'every message not dropped arrived, in order');
  t.ok(maxHeld <= bound, `held at most ${maxHeld} bytes, bound ${bound}`);
  // Credit lost with the dropped messages would leave the sender short for good: every later
  // message would go by request to send. Given back, few do (those held while the receiver waited).
  const requests = events.filter((e) => e.ev === 'send' && e.kind === Kind.Rts).length;
  t.ok(requests < count / 10, `${requests} requests to send for ${count} messages`);
  t.notOk(
    events.some((e) => e.ev === 'drop' && (e.kind === Kind.Credit || e.kind === Kind.Cts || e.kind === Kind.Chunk)),
    "no flow-control message of the runtime's own is dropped",
  );
});
