/**
 * A counterexample's path: the actions from the start to a state, replayed in the ranks of the
 * actual start (each stored state is its orbit's representative, so each step's action is renamed
 * back through the permutations taken so far).
 */
import { tagName } from '../../../tag-registry.ts';
import type { SpaceMessage } from './types.ts';
import { DROP, TICK, type SpaceModel } from './model.ts';
import type { SymmetryReduction } from './symmetry.ts';
import type { GrowableInt32 } from './visited.ts';

export interface SearchTree {
  parent: GrowableInt32;
  action: GrowableInt32;
  /** The permutation that took each state reached to its representative. */
  perm: GrowableInt32;
}

/**
 * The path to state `index` as lines, and the permutation `sigma` that maps its stored
 * representative to the concrete state the path reaches.
 */
export function pathTo<S, H>(
  index: number,
  tree: SearchTree,
  model: SpaceModel<S, H>,
  sym: SymmetryReduction<S, H>,
  ranks: readonly number[],
  describe: (m: SpaceMessage) => string = describeMessage,
): { lines: string[]; sigma: number } {
  const chain: number[] = [];
  for (let k = index; k > 0; k = tree.parent.at(k)) chain.push(k);
  chain.reverse();
  let sigma = sym.inverse(tree.perm.at(0));
  const lines: string[] = [];
  for (const k of chain) {
    const a = tree.action.at(k);
    const kind = a % 4;
    const x = Math.floor(a / 4);
    if (kind === TICK) lines.push(`rank ${sym.perms[sigma].rank(ranks[x])}'s timer fires`);
    else lines.push(`${kind === DROP ? 'lost: ' : ''}${describe(model.msgs[sym.renameMsg(x, sigma)])}`);
    sigma = sym.compose(sigma, sym.inverse(tree.perm.at(k)));
  }
  return { lines, sigma };
}

function describeMessage(m: SpaceMessage): string {
  const name = tagName(m.tag) ?? `tag ${m.tag}`;
  return `${m.from} → ${m.to} ${name} ${JSON.stringify(m.data, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v))}`;
}
