// examples/three-phase-commit.ts at n = 3 under --drop, --kill at start and mid-run, and a one-way --partition
// (the matrix and its checks: test/helpers/fault-matrix.ts).
import t from 'tap';
import { runMatrix, threePhaseCommit } from '../../helpers/fault-matrix.ts';

await runMatrix(t, threePhaseCommit, 3);
