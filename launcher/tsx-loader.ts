import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * tsx's loader as dsmpi's own installation resolves it, for ranks that run TypeScript sources
 * (`--no-bundle`, `--no-ship`): the program's project need not have tsx.
 */
export const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
