// examples/paxos.ts at n = 7 under --drop, --kill at start and mid-run, and a one-way --partition
// (the matrix and its checks: test/helpers/fault-matrix.ts).
import t from 'tap';
import { runMatrix, paxos } from '../../helpers/fault-matrix.ts';

await runMatrix(t, paxos, 7);
