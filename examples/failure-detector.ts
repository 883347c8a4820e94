// Heartbeat failure detector (book 3.3; the book's failure-detector.c, bounded and fixed): every
// rank sends heartbeats to all, suspects a peer silent past its timeout, revises a false suspicion
// with a longer timeout. After the run each rank prints `suspects [...]`: the ranks it thinks dead.
// Usage: dsrun -n 4 examples/failure-detector.ts [run time in ms, default 2000] [timeout in ms, default 200]
//        dsrun -n 4 --kill 2@1s examples/failure-detector.ts     (then everyone suspects 2)
// A longer timeout rides out a loaded machine, where a rank may get no CPU for longer than 200 ms.
import { run } from 'dsmpi';
import { detectorMain } from '../algorithms/failure-detector.ts';
import { intArg } from './lib/args.ts';

const runMs = intArg(1, 'run time in ms', 2000, 1);
const timeoutMs = intArg(2, 'timeout in ms', 200, 1);

await run(
  async (world) => {
    const report = await detectorMain(world, runMs, { periodMs: 50, timeoutMs, backoffMs: 100 });
    if (report.falseSuspicions > 0) console.log(`revised ${report.falseSuspicions} false suspicion(s)`);
    console.log(`suspects ${JSON.stringify(report.suspects)}`);
  },
  { surviveFailures: true },
);
