export function contentHash(files: readonly string[]): Promise<string | undefined>;
export function writeWhole(file: string, data: string | Uint8Array, temporary?: string): Promise<void>;
export function statStamp(files: readonly string[]): string | undefined;
export function currentHash(
  files: readonly string[],
  known: { hash?: unknown; stamp?: unknown } | undefined,
): Promise<{ hash: string | undefined; stamp: string | undefined }>;
