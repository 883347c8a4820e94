/**
 * A job's key in an environment variable (DSMPI_TOKEN) and back. Apart from keys.ts, which derives
 * keys with node:crypto, so that a rank thread, which reads its key but derives none, never loads it.
 */
import { Buffer } from 'node:buffer';

/** The length of every key of a job (keys.ts). */
export const KEY_BYTES = 32;

export const keyToText = (key: Buffer): string => key.toString('base64url');

export function keyFromText(text: string | undefined): Buffer | undefined {
  if (!text) return undefined;
  const key = Buffer.from(text, 'base64url');
  return key.length === KEY_BYTES ? key : undefined;
}
