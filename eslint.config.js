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

// Algorithms keep no module-level mutable state: a variable at module level is shared by every rank
// and every run in the process, so a simulation would depend on what ran before it (and replay would
// break). Flags module-level `let`/`var`, and writes from inside functions through module-level
// bindings (assignments, ++, and mutating calls such as push, set, add, delete).
const MUTATORS = new Set([
  'push',
  'pop',
  'shift',
  'unshift',
  'splice',
  'sort',
  'reverse',
  'fill',
  'copyWithin',
  'set',
  'add',
  'delete',
  'clear',
]);
const noModuleState = {
  meta: {
    type: 'problem',
    messages: {
      moduleLet: "Module-level '{{kind}} {{name}}' is state shared by every rank and run in the process; keep it in the rank's state.",
      moduleWrite:
        "'{{name}}' is module-level: writing it from a function shares state between ranks and runs; keep it in the rank's state.",
    },
    schema: [],
  },
  create(context) {
    const root = (node) => {
      while (node.type === 'MemberExpression' || node.type === 'TSNonNullExpression' || node.type === 'TSAsExpression')
        node = node.object ?? node.expression;
      return node.type === 'Identifier' ? node : undefined;
    };
    /** The identifier's variable, if it is a module-level variable (not an import, function or class). */
    const moduleVariable = (id) => {
      for (let scope = context.sourceCode.getScope(id); scope; scope = scope.upper) {
        const v = scope.set.get(id.name);
        if (!v) continue;
        const isModule = scope.type === 'module' || scope.type === 'global';
        return isModule && v.defs.some((d) => d.type === 'Variable') ? v : undefined;
      }
      return undefined;
    };
    const inFunction = (node) => context.sourceCode.getAncestors(node).some((a) => /Function/.test(a.type));
    const check = (node, target) => {
      const id = root(target);
      if (id && inFunction(node) && moduleVariable(id)) context.report({ node, messageId: 'moduleWrite', data: { name: id.name } });
    };
    return {
      'Program > VariableDeclaration[kind!="const"], Program > ExportNamedDeclaration > VariableDeclaration[kind!="const"]'(node) {
        for (const d of node.declarations)
          context.report({ node: d, messageId: 'moduleLet', data: { kind: node.kind, name: d.id.name ?? '…' } });
      },
      AssignmentExpression: (node) => check(node, node.left),
      UpdateExpression: (node) => check(node, node.argument),
      'CallExpression > MemberExpression.callee'(node) {
        if (node.property.type === 'Identifier' && MUTATORS.has(node.property.name)) check(node.parent, node.object);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'scratch/**', '.tap/**'] },
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
  {
    files: ['algorithms/**/*.ts'],
    // replicated-map.ts: its read-id counter is being moved into the map.
    ignores: ['algorithms/crdt/replicated-map.ts'],
    plugins: { dsmpi: { rules: { 'no-module-state': noModuleState } } },
    rules: { 'dsmpi/no-module-state': 'error' },
  },
);
