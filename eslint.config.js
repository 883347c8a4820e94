// Lint: typescript-eslint's recommended rules, plus the rule that keeps simulations replayable:
// algorithms and the runtime core take time and randomness only from the communicator.
import tseslint from 'typescript-eslint';

const replayable = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Use comm.clock.now() so simulations replay.' },
    { object: 'Math', property: 'random', message: 'Use comm.random() so simulations replay.' },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Use comm.clock.setTimer()/sleep() so simulations replay.' },
    { name: 'setInterval', message: 'Use comm.clock.setTimer() so simulations replay.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'scratch/**', '.tap/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A variable a closure reads before its one assignment must stay `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['algorithms/**/*.ts', 'runtime/*.ts', 'runtime/one-sided/**/*.ts', 'runtime/sim/**/*.ts'],
    ignores: ['runtime/clock.ts', 'runtime/run.ts'],
    rules: replayable,
  },
);
