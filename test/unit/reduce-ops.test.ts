// Reduction operators (runtime/reduce-ops.ts) alone: each built-in on scalars and arrays, the
// checks of operands before any I/O, and the errors of a misfit.
import t from 'tap';
import { applyBuiltin, checkOperand, isReduceOpName, REDUCE_OP_NAMES, resolveOp } from '../../runtime/reduce-ops.ts';

t.test('each built-in on two numbers', async (t) => {
  const table: Array<[string, number, number, number]> = [
    ['sum', 3, 4, 7],
    ['prod', 3, 4, 12],
    ['max', 3, 4, 4],
    ['max', -3, -4, -3],
    ['min', 3, 4, 3],
    ['min', -3, -4, -4],
    ['land', 2, 0, 0],
    ['land', 2, 5, 1],
    ['lor', 0, 0, 0],
    ['lor', 0, 7, 1],
    ['band', 0b1100, 0b1010, 0b1000],
    ['bor', 0b1100, 0b1010, 0b1110],
    ['band', -1, 0x7fffffff, 0x7fffffff],
  ];
  for (const [op, a, b, want] of table) t.equal(resolveOp(op, 'reduce')(a, b), want, `${op}(${a}, ${b})`);
});

t.test('land and lor on booleans give booleans; a mix of boolean and number gives a number', async (t) => {
  t.equal(applyBuiltin('land', true, true), true);
  t.equal(applyBuiltin('land', true, false), false);
  t.equal(applyBuiltin('lor', false, true), true);
  t.equal(applyBuiltin('lor', false, false), false);
  t.equal(applyBuiltin('land', true, 1), 1);
  t.equal(applyBuiltin('lor', 0, false), 0);
  t.equal(applyBuiltin('land', false, 1), 0);
});

t.test('arrays combine element-wise, nested too', async (t) => {
  t.same(applyBuiltin('sum', [1, [2, 3]], [10, [20, 30]]), [11, [22, 33]]);
  t.same(applyBuiltin('max', [1, 9], [5, 2]), [5, 9]);
  t.same(applyBuiltin('land', [true, 1], [false, 1]), [false, 1]);
  t.same(applyBuiltin('sum', [], []), []);
});

t.test('a misfit fails with DS_ERR_OP_FAILED naming the path', async (t) => {
  t.throws(() => applyBuiltin('sum', [1, 2], 3), {
    code: 'DS_ERR_OP_FAILED',
    message: "'sum': operand is an array on one side and not on the other",
  });
  t.throws(() => applyBuiltin('sum', 3, [1, 2]), { code: 'DS_ERR_OP_FAILED', message: /an array on one side/ });
  t.throws(() => applyBuiltin('max', [1, [2, 3]], [1, [2]]), {
    code: 'DS_ERR_OP_FAILED',
    message: "'max': operand[1] has arrays of different lengths 2 and 1",
  });
  t.throws(() => applyBuiltin('sum', [1, 'x'], [1, 2]), {
    code: 'DS_ERR_OP_FAILED',
    message: "operand[1] is 'x'; 'sum' needs numbers (or arrays of numbers)",
  });
  t.throws(() => applyBuiltin('sum', 1, null), { code: 'DS_ERR_OP_FAILED', message: "operand is null; 'sum' needs numbers" });
});

t.test('checkOperand refuses a bad contribution at once with DS_ERR_INVALID_ARGUMENT', async (t) => {
  const refuse = (op: string, value: unknown, message: string | RegExp) =>
    t.throws(() => checkOperand(op, value, 'allreduce'), { code: 'DS_ERR_INVALID_ARGUMENT', message }, `${op} ${String(value)}`);
  refuse('sum', 'x', "allreduce: operand is 'x'; 'sum' needs numbers (or arrays of numbers)");
  refuse('prod', true, "allreduce: operand is true; 'prod' needs numbers (or arrays of numbers)");
  refuse('min', [1, [2, {}]], "allreduce: operand[1][1] is an object; 'min' needs numbers (or arrays of numbers)");
  refuse('max', undefined, "allreduce: operand is undefined; 'max' needs numbers");
  refuse('land', 'yes', "allreduce: operand is 'yes'; 'land' needs numbers or booleans (or arrays of them)");
  refuse('lor', null, "allreduce: operand is null; 'lor' needs numbers or booleans (or arrays of them)");
  refuse('band', 1.5, "allreduce: operand is 1.5; 'band' needs integers in -2^31..2^31-1 (or arrays of them)");
  refuse('bor', 0x80000000, /operand is 2147483648; 'bor' needs integers in -2\^31\.\.2\^31-1/);
  refuse('band', -0x80000001, /operand is -2147483649; 'band' needs integers/);
  refuse('bor', [1, () => 1], "allreduce: operand[1] is a function; 'bor' needs integers in -2^31..2^31-1 (or arrays of them)");
  refuse('sum', [[1], 'a'], /operand\[1\] is 'a'/);
  refuse('sum', {}, /operand is an object;/);
  for (const [op, value] of [
    ['sum', 1.5],
    ['sum', [1, [2, 3]]],
    ['land', true],
    ['lor', [0, false]],
    ['band', -0x80000000],
    ['bor', 0x7fffffff],
    ['band', [1, 2]],
  ] as const)
    t.doesNotThrow(() => checkOperand(op, value, 'allreduce'), `${op} ${JSON.stringify(value)} is fine`);
  t.doesNotThrow(() => checkOperand((a: unknown) => a, 'anything', 'allreduce'), 'a user function takes any operand');
});

t.test('resolveOp: a user function as is; an unknown op is DS_ERR_INVALID_ARGUMENT listing the choices', async (t) => {
  const fn = (a: number, b: number) => a * 10 + b;
  t.equal(resolveOp(fn, 'reduce'), fn);
  const message =
    "reduce: unknown op 'avg'; use one of 'sum', 'prod', 'max', 'min', 'land', 'lor', 'band', 'bor' or a function (a, b) => c";
  t.throws(() => resolveOp('avg', 'reduce'), { code: 'DS_ERR_INVALID_ARGUMENT', message });
  t.throws(() => resolveOp(7, 'scan'), { message: /^scan: unknown op 7;/ });
  t.throws(() => resolveOp(undefined, 'scan'), { message: /^scan: unknown op undefined;/ });
  t.throws(() => resolveOp([], 'scan'), { message: /^scan: unknown op an array;/ });
  t.throws(() => resolveOp('toString', 'scan'), { message: /unknown op 'toString'/ }, 'not an inherited property name');
});

t.test('isReduceOpName knows exactly the eight names', async (t) => {
  t.same(REDUCE_OP_NAMES, ['sum', 'prod', 'max', 'min', 'land', 'lor', 'band', 'bor']);
  for (const name of REDUCE_OP_NAMES) t.ok(isReduceOpName(name), name);
  for (const other of ['avg', 'constructor', 'hasOwnProperty', '', 1, null]) t.notOk(isReduceOpName(other), String(other));
});
