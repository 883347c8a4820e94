/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so every rank's randomness replays from
 * the job seed. Not for cryptography.
 */
export type Random = () => number;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator of floats in [0, 1) determined by `seed` and `stream` (e.g. the rank). */
export function seededRandom(seed: number, stream = 0): Random {
  const init = splitmix32(Math.imul(seed >>> 0, 0x2545f491) ^ Math.imul(stream + 1, 0x6b43a9b5));
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}
