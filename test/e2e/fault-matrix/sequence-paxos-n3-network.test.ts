// examples/sequence-paxos.ts at n = 3 under --drop and a one-way --partition (the matrix and its checks:
// test/helpers/fault-matrix.ts; kills: sequence-paxos-n3-kill.test.ts).
import t from 'tap';
import { runMatrix, sequencePaxos } from '../../helpers/fault-matrix.ts';

await runMatrix(t, sequencePaxos, 3, ['drop', 'one-way partition']);
