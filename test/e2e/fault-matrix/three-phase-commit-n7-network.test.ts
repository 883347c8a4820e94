// examples/three-phase-commit.ts at n = 7 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: three-phase-commit-n7-kill.test.ts).
import t from 'tap';
import { runMatrix, threePhaseCommit } from '../../helpers/fault-matrix.ts';

await runMatrix(t, threePhaseCommit, 7, ['drop', 'one-way partition']);
