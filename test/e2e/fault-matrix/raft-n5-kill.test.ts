// examples/raft.ts at n = 5 with a rank killed at start and mid-run (the matrix and its checks:
// test/helpers/fault-matrix.ts; loss and a partition: raft-n5-network.test.ts).
import t from 'tap';
import { runMatrix, raft } from '../../helpers/fault-matrix.ts';

await runMatrix(t, raft, 5, ['kill at start', 'kill mid-run']);
