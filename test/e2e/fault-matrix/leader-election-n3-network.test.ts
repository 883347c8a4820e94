// examples/leader-election.ts at n = 3 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: leader-election-n3-kill.test.ts).
import t from 'tap';
import { runMatrix, leaderElection } from '../../helpers/fault-matrix.ts';

await runMatrix(t, leaderElection, 3, ['drop', 'one-way partition']);
