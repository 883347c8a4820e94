// examples/two-phase-commit.ts at n = 7 with a rank killed at start and mid-run (the matrix and its checks:
// test/helpers/fault-matrix.ts; loss and a partition: two-phase-commit-n7-network.test.ts).
import t from 'tap';
import { runMatrix, twoPhaseCommit } from '../../helpers/fault-matrix.ts';

await runMatrix(t, twoPhaseCommit, 7, ['kill at start', 'kill mid-run']);
