// CI's fuzz budget of the classic algorithms, the clocks, the failure detector, replication,
// telemetry and the computations (fuzz-budget.ts): a few dozen seeds each, about 40 s of CPU.
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({
  bully: 30,
  'ring-election': 30,
  'causal-broadcast': 30,
  'total-order-multicast': 30,
  gossip: 30,
  'chandy-lamport': 30,
  'lamport-clock': 30,
  'vector-clock': 30,
  cristian: 30,
  berkeley: 30,
  'failure-detector': 20,
  'primary-backup': 30,
  telemetry: 20,
  mapreduce: 30,
  stabilization: 30,
  'federated-sgd': 30,
});
