export function contentHash(files: readonly string[]): Promise<string | undefined>;
export function writeWhole(file: string, data: string | Uint8Array, temporary?: string): Promise<void>;
