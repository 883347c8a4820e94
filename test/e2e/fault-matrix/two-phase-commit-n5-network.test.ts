// examples/two-phase-commit.ts at n = 5 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: two-phase-commit-n5-kill.test.ts).
import t from 'tap';
import { runMatrix, twoPhaseCommit } from '../../helpers/fault-matrix.ts';

await runMatrix(t, twoPhaseCommit, 5, ['drop', 'one-way partition']);
