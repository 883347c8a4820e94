// examples/leader-election.ts at n = 5 under --drop, --kill at start and mid-run, and a one-way --partition
// (the matrix and its checks: test/helpers/fault-matrix.ts).
import t from 'tap';
import { runMatrix, leaderElection } from '../../helpers/fault-matrix.ts';

await runMatrix(t, leaderElection, 5);
