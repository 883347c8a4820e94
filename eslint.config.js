// Lint: typescript-eslint's recommended rules; the rule that keeps simulations replayable
// (algorithms and the runtime core take time and randomness only from the communicator); and the
// layering of docs/architecture.md, checked on every import (eslint-plugin-boundaries).
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

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

// ---- Layers ----------------------------------------------------------------------------------
// Elements are folders (the first pattern that matches a file's folder wins); inside runtime/, the
// file categories tell the public API and the start-up files (which choose a transport) from the
// core, which does no I/O.
const element = (type, pattern) => ({ type, pattern, partialMatch: false });
const layers = [
  element('protocol', 'runtime/protocol'),
  element('transport', 'runtime/transport'),
  element('sim', 'runtime/sim'),
  element('runtime', 'runtime'),
  element('checkers', 'algorithms/checkers'),
  element('common', 'algorithms/common'),
  element('algorithms', 'algorithms'),
  element('launcher', 'launcher'),
  element('examples', 'examples'),
];
const files = [
  { category: 'api', pattern: 'runtime/index.ts' },
  { category: 'start', pattern: 'runtime/{run,local,dsrun-spawn,dsrun-rank}.ts' },
  { category: 'core', pattern: 'runtime/**' },
];

const types = (...names) => ({ element: { types: { anyOf: names } } });
const core = { element: { type: 'runtime' }, file: { categories: 'core' } };
const apiOrStart = { file: { categories: { anyOf: ['api', 'start'] } } };
const runtimeInternals = [types('runtime', 'protocol', 'transport', 'sim')];

/** Each policy forbids one layer's arrows; what no policy forbids is allowed. */
const layerPolicies = [
  {
    from: core,
    disallow: { to: [types('transport', 'sim', 'launcher'), apiOrStart] },
    message:
      'the runtime core does no I/O: it must not import transports, the simulator, the launcher, the public API or the start-up files',
  },
  {
    from: types('runtime', 'protocol', 'transport', 'sim'),
    disallow: { to: types('launcher', 'algorithms', 'common', 'checkers') },
    message: 'the runtime must not import the launcher or an algorithm',
  },
  {
    from: types('transport', 'protocol'),
    disallow: { to: [types('sim'), apiOrStart] },
    message: 'transports and the protocol serve the runtime: they must not import the simulator, the public API or the start-up files',
  },
  {
    from: types('protocol'),
    disallow: { to: types('transport') },
    message: 'the protocol is shared by transports and the launcher: it must not import a transport',
  },
  { from: types('sim'), disallow: { to: apiOrStart }, message: 'the simulator must not import the public API or the start-up files' },
  {
    from: types('algorithms', 'common', 'examples'),
    disallow: {
      to: [{ ...types('runtime'), file: { categories: { noneOf: ['api'] } } }, types('protocol', 'transport', 'sim', 'launcher')],
    },
    message: "algorithms and examples use only the public API ('dsmpi'), never runtime internals or the launcher",
  },
  {
    from: types('launcher'),
    disallow: {
      to: [types('algorithms', 'common', 'sim', 'transport'), { ...types('runtime'), file: { categories: { noneOf: ['api'] } } }],
    },
    message: 'the launcher imports only the public API, runtime/protocol/ and the pure checkers (never an algorithm or a runtime internal)',
  },
  {
    from: types('checkers'),
    disallow: { to: [...runtimeInternals, types('algorithms', 'common', 'launcher')] },
    message: 'the checkers stay pure (the launcher uses them): no runtime, no algorithm',
  },
  {
    from: types('common'),
    disallow: { to: types('algorithms', 'checkers') },
    message: 'algorithms/common/ is what every algorithm shares (serve, farewell): it must not import an algorithm',
  },
];

const wireLibraries = {
  paths: [
    { name: 'ws', message: 'WebSocket code lives under runtime/transport/ (and runtime/protocol/).' },
    { name: 'msgpackr', message: 'The codec lives under runtime/transport/: the core is handed a Codec.' },
  ],
};

export default tseslint.config(
  // test/fixtures/layers/ holds wrong imports on purpose: test/lint/layers.test.ts lints them.
  { ignores: ['node_modules/**', 'scratch/**', '.tap/**', 'dist/**', '.stryker-tmp/**', 'reports/**', 'test/fixtures/layers/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A variable a closure reads before its one assignment must stay `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // A rank process's main module and what it loads are CommonJS, so that no rank loads Node.js's ES
  // module loader (launcher/rank-main.cjs).
  {
    files: ['launcher/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['algorithms/**/*.ts', 'runtime/*.ts', 'runtime/one-sided/**/*.ts', 'runtime/sim/**/*.ts'],
    ignores: ['runtime/clock.ts', 'runtime/run.ts'],
    rules: replayable,
  },
  {
    files: ['algorithms/**/*.ts'],
    plugins: { dsmpi: { rules: { 'no-module-state': noModuleState } } },
    rules: { 'dsmpi/no-module-state': 'error' },
  },
  {
    files: ['**/*.{ts,js,mjs}'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': layers,
      'boundaries/files': files,
      'boundaries/files-single-match': true,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          checkInternals: true,
          policies: layerPolicies,
        },
      ],
    },
  },
  {
    files: ['runtime/**/*.ts', 'algorithms/**/*.ts', 'launcher/**/*.{ts,js,mjs}', 'examples/**/*.ts'],
    ignores: ['runtime/transport/**', 'runtime/protocol/**'],
    rules: { 'no-restricted-imports': ['error', wireLibraries] },
  },
  {
    files: ['algorithms/checkers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'dsmpi', message: 'The checkers stay pure (the launcher uses them): no runtime.' }] },
      ],
    },
  },
  {
    // The viewer's browser scripts: joined into one function in the page, so each file uses what
    // the files before it define (model.js → draw.js → ui.js).
    files: ['launcher/view/page/*.js'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
);
