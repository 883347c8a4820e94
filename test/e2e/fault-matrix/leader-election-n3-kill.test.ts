// examples/leader-election.ts at n = 3 with a rank killed at start and mid-run (the matrix and its checks:
// test/helpers/fault-matrix.ts; loss and a partition: leader-election-n3-network.test.ts).
import t from 'tap';
import { runMatrix, leaderElection } from '../../helpers/fault-matrix.ts';

await runMatrix(t, leaderElection, 3, ['kill at start', 'kill mid-run']);
