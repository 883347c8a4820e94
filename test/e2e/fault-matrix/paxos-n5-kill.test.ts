// examples/paxos.ts at n = 5 with a rank killed at start and mid-run (the matrix and its checks:
// test/helpers/fault-matrix.ts; loss and a partition: paxos-n5-network.test.ts).
import t from 'tap';
import { runMatrix, paxos } from '../../helpers/fault-matrix.ts';

await runMatrix(t, paxos, 5, ['kill at start', 'kill mid-run']);
