import type { Model, Operation } from './linearizability.ts';

/** Register operations: read, write, and compare-and-set (`cas` of [expected, new]). */
export type RegisterInput = { f: 'read' } | { f: 'write'; value: unknown } | { f: 'cas'; from: unknown; to: unknown };
/** A read's value; a write's nothing; a cas' success (true) or failure (false). */
export type RegisterOutput = unknown;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** One register starting at `initial` (null = never written). */
export function registerModel(initial: unknown = null): Model<unknown, RegisterInput, RegisterOutput> {
  return {
    init: () => initial,
    step(state, input, output) {
      switch (input.f) {
        case 'read':
          return [output === undefined || same(output, state), state];
        case 'write':
          return [true, input.value];
        case 'cas': {
          const hit = same(state, input.from);
          if (output === undefined) return [true, hit ? input.to : state];
          return [output === hit, hit ? input.to : state];
        }
      }
    },
    key: (state) => JSON.stringify(state) ?? 'undefined',
    readOnly: (op) => op.input.f === 'read' || (op.input.f === 'cas' && op.output === false),
    describe: (op) =>
      op.input.f === 'read'
        ? `read → ${op.output === undefined ? '?' : JSON.stringify(op.output)}`
        : op.input.f === 'write'
          ? `write ${JSON.stringify(op.input.value)}${op.output === undefined && op.ret === Infinity ? ' (outcome unknown)' : ''}`
          : `cas ${JSON.stringify(op.input.from)}→${JSON.stringify(op.input.to)} ${op.output === undefined ? '?' : op.output ? 'ok' : 'failed'}`,
  };
}

/** Key-value operations, each on one key: get, put, append (string concatenation). */
export type KvInput = { f: 'get'; key: string } | { f: 'put'; key: string; value: string } | { f: 'append'; key: string; value: string };

/** A key-value store whose keys start as ''; checked key by key (linearizability is local). */
export function kvModel(): Model<string, KvInput, string> {
  return {
    init: () => '',
    step(state, input, output) {
      switch (input.f) {
        case 'get':
          return [output === undefined || output === state, state];
        case 'put':
          return [true, input.value];
        case 'append':
          return [true, state + input.value];
      }
    },
    key: (state) => state,
    readOnly: (op) => op.input.f === 'get',
    partition(history: Operation<KvInput, string>[]) {
      const byKey = new Map<string, Operation<KvInput, string>[]>();
      for (const op of history) byKey.set(op.input.key, [...(byKey.get(op.input.key) ?? []), op]);
      return [...byKey.values()];
    },
    describe: (op) =>
      op.input.f === 'get'
        ? `get ${op.input.key} → ${op.output === undefined ? '?' : JSON.stringify(op.output)}`
        : `${op.input.f} ${op.input.key} ${JSON.stringify(op.input.value)}`,
  };
}
