/**
 * Ballots (proposal numbers) as (counter, rank) pairs: unique per proposer, totally ordered, and
 * independent of wall clocks (the book's programs used time(NULL) seconds, which tie; spec 1, I6).
 * A plain array so that it travels as message data.
 */
export type Ballot = readonly [counter: number, rank: number];

/** The ballot below every real one: nothing promised, nothing accepted. */
export const Bottom: Ballot = [0, -1];

/** <0, 0, >0 as a is lower than, equal to, higher than b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

export function ballotAbove(a: Ballot, b: Ballot): boolean {
  return compareBallots(a, b) > 0;
}

export function sameBallot(a: Ballot, b: Ballot): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** `rank`'s next ballot: above every ballot it has seen. */
export function nextBallot(seen: Ballot, rank: number): Ballot {
  return [seen[0] + 1, rank];
}

/** A majority of `count` voters: floor(count / 2) + 1 (the book's programs used ceil(k/2) or max(floor(k/2), 1)). */
export function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}

export function formatBallot(b: Ballot): string {
  return `(${b[0]},${b[1]})`;
}
