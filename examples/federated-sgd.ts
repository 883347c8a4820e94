// Federated linear regression with SGD and FedAvg (the book's exercise 8). Rank 0 aggregates, the
// other ranks are clients with private data from y = 2·x1 − 3·x2 + 0.5 + noise. Per round: the
// global weights, the training loss (MSE), who reported, and the communication cost.
// Usage: dsrun -n 5 examples/federated-sgd.ts [rounds=10] [local|scatter] [p2p|collective] [stragglers, e.g. 2,3]
//   p2p: point-to-point with a deadline per round; collective: bcast + reduce (no dropout tolerance).
//   A straggler answers too late in odd rounds and is left out of them (the aggregator's timeout, p2p).
import { run } from 'dsmpi';
import { fedAvgMain, defaultFedAvgOptions } from '../algorithms/federated/fedavg.ts';
import { choiceArg, intArg } from './lib/args.ts';

const rounds = intArg(1, 'rounds', 10, 1);
const data = choiceArg(2, 'data', ['local', 'scatter'], 'local');
const aggregation = choiceArg(3, 'aggregation', ['p2p', 'collective'], 'p2p');
const stragglers = (process.argv[5] ?? '')
  .split(',')
  .filter((x) => x !== '')
  .map(Number);
const fmt = (x: number): string => x.toFixed(3);
const truth = defaultFedAvgOptions.truth;

await run(
  async (world) => {
    const result = await fedAvgMain(world, { rounds, data, aggregation, stragglers, roundTimeoutMs: 300 }, (r) => {
      console.log(
        `round ${r.round}: w=[${r.model.w.map(fmt).join(', ')}] b=${fmt(r.model.b)} loss=${r.loss.toFixed(4)} ` +
          `clients ${r.reported.length}/${r.asked} [${r.reported.join(',')}] messages=${r.messages} bytes=${r.bytes}`,
      );
    });
    if (!result) return;
    const m = result.model;
    console.log(`learned w=[${m.w.map(fmt).join(', ')}] b=${fmt(m.b)}; truth w=[${truth.w.join(', ')}] b=${truth.b}`);
    const err = Math.max(...m.w.map((w, i) => Math.abs(w - truth.w[i])), Math.abs(m.b - truth.b));
    console.log(`CHECK learned weights within 0.1 of the truth: ${err <= 0.1 ? 'OK' : `FAIL (off by ${fmt(err)})`}`);
    if (err > 0.1) process.exitCode = 1;
  },
  { surviveFailures: true },
);
