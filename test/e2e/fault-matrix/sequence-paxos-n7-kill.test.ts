// examples/sequence-paxos.ts at n = 7 with a rank killed at start and mid-run (the matrix and its checks:
// test/helpers/fault-matrix.ts; loss and a partition: sequence-paxos-n7-network.test.ts).
import t from 'tap';
import { runMatrix, sequencePaxos } from '../../helpers/fault-matrix.ts';

await runMatrix(t, sequencePaxos, 7, ['kill at start', 'kill mid-run']);
