// examples/paxos.ts at n = 5 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: paxos-n5-kill.test.ts).
import t from 'tap';
import { runMatrix, paxos } from '../../helpers/fault-matrix.ts';

await runMatrix(t, paxos, 5, ['drop', 'one-way partition']);
