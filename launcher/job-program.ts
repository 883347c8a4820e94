import { bundleNodeArgs, bundleProgram } from './bundle.ts';
import { tsxLoader } from './tsx-loader.ts';
import type { RankSpawner } from './spawner.ts';

/** What the ranks run: the bundle (or the source, loaded with tsx), and how node is told to run a file. */
export interface JobProgram {
  entry: string;
  /** Node's arguments to run `file`: the job's bundle (stack traces mapped to its sources), any other file with tsx. */
  nodeArgs(file: string): string[];
  /** Removes the bundle. */
  remove(): Promise<void>;
}

/**
 * Compiles the program once with esbuild (unless `bundle` is off) and hands it to the spawner's
 * hosts. Null, after saying why through `log`, if either fails.
 */
export async function prepareProgram(
  options: { program: string; args: string[]; env: Record<string, string>; bundle: boolean; spawner?: RankSpawner },
  jobId: string,
  log: (line: string) => void,
): Promise<JobProgram | null> {
  let entry = options.program;
  let remove = async (): Promise<void> => {};
  if (options.bundle) {
    try {
      const bundled = await bundleProgram(options.program, jobId);
      entry = bundled.file;
      remove = bundled.remove;
    } catch (err) {
      log(`cannot compile ${options.program}:\n${(err as Error).message}`);
      return null;
    }
  }
  if (options.spawner) {
    try {
      await options.spawner.start(entry, options.args, options.env);
    } catch (err) {
      log((err as Error).message);
      await options.spawner.close();
      await remove();
      return null;
    }
  }
  const nodeArgs = (file: string): string[] =>
    options.bundle && file !== options.program ? bundleNodeArgs(file) : ['--import', tsxLoader, file];
  return { entry, nodeArgs, remove };
}
