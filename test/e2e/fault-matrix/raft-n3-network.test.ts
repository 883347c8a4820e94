// examples/raft.ts at n = 3 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: raft-n3-kill.test.ts).
import t from 'tap';
import { runMatrix, raft } from '../../helpers/fault-matrix.ts';

await runMatrix(t, raft, 3, ['drop', 'one-way partition']);
