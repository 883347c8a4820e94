#!/usr/bin/env node
// dsrun: the launcher's entry point. Installed from the package, it runs the compiled launcher
// (dist/). In a checkout of the repository, where the TypeScript sources sit beside this file, it
// runs them compiled into a bundle that is cached until a source changes (launcher-bundle.mjs), so
// no build step is needed there and no TypeScript compiler is loaded (it runs as a script, with V8's
// code cache). Either way the ranks it starts run a bundle of their program, so they do not load one
// either.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `dsrun --help | head`: a reader that stops reading ends the output, not the launcher with a stack
// trace (the ranks' own lines are handled where they are forwarded, launcher/line-prefixer.ts).
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
});

const source = new URL('./cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { launcherBundle, loadLauncher } = await import('./launcher-bundle.mjs');
  cli = loadLauncher(await launcherBundle(fileURLToPath(source)));
} else {
  cli = await import('../dist/launcher/cli.js');
}
process.exitCode = await cli.main(process.argv.slice(2));
