import { TAG_UB } from './constants.ts';
import { DsError, ErrorCode } from './errors.ts';

/**
 * The one registry of message tags. Each algorithm (or program) declares its message names once:
 *
 *   export const Tag = defineTags('paxos', ['Prepare', 'Promise', 'Accept'] as const);
 *
 * and gets a tag number per name, allocated here so that two algorithms composed in one program
 * never share a number. Traces carry the names (`name` on message events), so diagrams and reports
 * say `Prepare`, not `tag 101`.
 *
 * Numbers are allocated from FIRST_ALLOCATED_TAG up, in the order the program's modules define
 * them: every rank of a job runs the same program, so every rank gets the same numbers. Tags below
 * FIRST_ALLOCATED_TAG are never allocated; programs may use them directly. This is process-wide
 * state on purpose: it holds declarations made when modules load, the same in every rank, never
 * per-rank state.
 */
export const FIRST_ALLOCATED_TAG = 100;

interface Declared {
  namespace: string;
  name: string;
}

const byTag = new Map<number, Declared>();
const byNamespace = new Map<string, Record<string, number>>();
let nextTag = FIRST_ALLOCATED_TAG;

/** The tag table of a namespace: one number per declared name. */
export type TagTable<Names extends string> = { readonly [N in Names]: number };

/**
 * Declares a namespace's message names and returns their tags. With a list of names the numbers
 * are allocated; with an object (`{ Ping: 7 }`) the given numbers are kept and checked. Throws
 * DS_ERR_INVALID_ARGUMENT when a number is already another name's, or when the namespace was
 * declared before with other names (declaring the same names again returns the same table).
 */
export function defineTags<const Names extends string>(namespace: string, names: readonly Names[]): TagTable<Names>;
export function defineTags<const Table extends Record<string, number>>(
  namespace: string,
  table: Table,
): { readonly [N in keyof Table]: number };
export function defineTags(namespace: string, declared: readonly string[] | Record<string, number>): Record<string, number> {
  const wanted = Array.isArray(declared) ? declared : Object.keys(declared);
  if (typeof namespace !== 'string' || namespace === '') refuse(`a namespace is a non-empty string, got ${JSON.stringify(namespace)}`);
  if (new Set(wanted).size !== wanted.length || wanted.some((n) => typeof n !== 'string' || n === '')) {
    refuse(`'${namespace}': names must be distinct non-empty strings, got ${JSON.stringify(wanted)}`);
  }
  const before = byNamespace.get(namespace);
  if (before) {
    const same =
      Object.keys(before).join('\n') === wanted.join('\n') &&
      (Array.isArray(declared) || wanted.every((n) => (declared as Record<string, number>)[n] === before[n]));
    if (same) return before;
    refuse(`'${namespace}' is already declared as ${JSON.stringify(before)}; declare each namespace once`);
  }
  const table: Record<string, number> = {};
  for (const name of wanted) {
    const tag = Array.isArray(declared) ? allocate() : (declared as Record<string, number>)[name];
    if (!Number.isInteger(tag) || tag < 0 || tag > TAG_UB)
      refuse(`'${namespace}.${name}': tag ${String(tag)} is not an integer 0..${TAG_UB}`);
    const owner = byTag.get(tag);
    if (owner)
      refuse(`'${namespace}.${name}' wants tag ${tag}, already '${owner.namespace}.${owner.name}'; let defineTags allocate the numbers`);
    table[name] = tag;
  }
  // Registered only once every name is known to be free, so a refused declaration leaves nothing behind.
  for (const [name, tag] of Object.entries(table)) byTag.set(tag, { namespace, name });
  Object.freeze(table);
  byNamespace.set(namespace, table);
  return table;
}

function allocate(): number {
  while (byTag.has(nextTag)) nextTag++;
  return nextTag++;
}

function refuse(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `defineTags: ${message}`);
}

/** The declared name of a point-to-point tag (`Prepare`), or undefined if no namespace declared it. */
export function tagName(tag: number): string | undefined {
  return byTag.get(tag)?.name;
}
