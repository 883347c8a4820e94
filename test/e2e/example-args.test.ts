// An example given an argument it cannot take stops at once with DS_ERR_INVALID_ARGUMENT naming the
// argument, instead of running on NaN (a mutual-exclusion loop bound) until the job's timeout.
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

// Read inside run(), the failure summary names the code; read at the top of the module, before
// run(), the rank's own error line does.
const cases: Array<{ args: string[]; message: RegExp }> = [
  {
    args: ['-n', '3', 'examples/token-ring.ts', '[entries=3]'],
    message: /DS_ERR_INVALID_ARGUMENT: argument 1 \(entries per rank\) must be an integer >= 0, got '\[entries=3\]'/,
  },
  {
    args: ['-n', '3', 'examples/ring-election.ts', '7'],
    message: /DS_ERR_INVALID_ARGUMENT: argument 1 \(initiator rank\) must be an integer from 0 to 2, got '7'/,
  },
  {
    args: ['-n', '2', 'examples/mapreduce.ts', 'sideways'],
    message: /DsError: argument 1 \(mode\) must be one of scatter, spread, got 'sideways'/,
  },
];

for (const { args, message } of cases) {
  t.test(args.slice(2).join(' '), async (t) => {
    const r = await dsrun(['--threads', '--timeout', '60s', ...args]);
    t.not(r.code, 0, 'the job fails');
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /timed out|timeout/i, 'it stops at once, not at the timeout');
  });
}

t.test('a good argument still runs', async (t) => {
  const r = await dsrun(['--threads', '-n', '3', 'examples/token-ring.ts', '1']);
  t.equal(r.code, 0, r.stderr);
});
