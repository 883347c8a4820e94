#!/usr/bin/env node
// dsrun: the launcher's entry point. The launcher is TypeScript, loaded through tsx; the ranks it
// starts run a bundle compiled once per job, so they do not load tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
