// What both bundle caches do with their files: the launcher's (launcher-bundle.mjs, which runs before
// any TypeScript is compiled, hence plain JavaScript) and the programs' (bundle.ts).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/**
 * A hash of the contents of `files`; undefined if one cannot be read (it was removed). The files are
 * read synchronously: every job checks its launcher's 56 sources and its program's 100 or so before
 * any rank starts, and reading them one await at a time took 20–75 ms there (4 trips through
 * libuv's thread pool per file), against 3–10 ms.
 */
export async function contentHash(files) {
  const hash = createHash('sha256');
  try {
    for (const file of [...files].sort()) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  } catch {
    return undefined;
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * What the file system says of `files` without reading them: each one's inode, size, and times of
 * last change of contents and of inode, in nanoseconds; undefined if one is gone. Any write to a file
 * moves its change time, which no tool sets back, so a stamp equal to the one taken before a
 * contentHash() of the same files means that hash still holds, and reading 150 files is saved.
 */
export function statStamp(files) {
  const hash = createHash('sha256');
  try {
    for (const file of [...files].sort()) {
      const s = statSync(file, { bigint: true });
      hash.update(`${file}\0${s.ino}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0`);
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * The content hash of `files`, taken from `known` (a hash and the statStamp taken before it, from a
 * manifest) when their stamp has not changed since, else computed. Returns it with the stamp taken
 * before it, for the next manifest; the hash is undefined if a file is gone.
 */
export async function currentHash(files, known) {
  const stamp = statStamp(files);
  if (stamp !== undefined && known?.stamp === stamp && typeof known.hash === 'string') return { hash: known.hash, stamp };
  return { hash: await contentHash(files), stamp };
}

/**
 * Writes `data` to `file` whole or not at all (another dsrun may be reading or writing it), through
 * `temporary`, which names the writing process so that a killed writer's leftovers can be told apart.
 */
export async function writeWhole(file, data, temporary = `${file}.${process.pid}.tmp`) {
  await writeFile(temporary, data);
  await rename(temporary, file);
}
