// threadRankData (runtime/transport/thread-data.ts): a rank is told it is a thread by its
// environment, and only then reads the Worker's data; a process rank, or a thread that dsrun did not
// start, gets none.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Env } from '../../runtime/protocol/rendezvous.ts';
import { threadRankData } from '../../runtime/transport/thread-data.ts';

/** What threadRankData() returns in a Worker started with `env` and `workerData`. */
function inWorker(env: NodeJS.ProcessEnv, workerData: unknown): Promise<unknown> {
  const source = `
    const { parentPort } = require('node:worker_threads');
    require('tsx/cjs/api').register();
    const { threadRankData } = require(${JSON.stringify(fileURLToPath(new URL('../../runtime/transport/thread-data.ts', import.meta.url)))});
    parentPort.postMessage({ data: threadRankData() ?? null });`;
  const worker = new Worker(source, { eval: true, env, workerData });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { data: unknown }) => resolve(m.data));
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

t.test('the main thread gets no data, whatever its environment says', async (t) => {
  t.equal(threadRankData(), undefined);
  process.env[Env.thread] = '1';
  t.teardown(() => delete process.env[Env.thread]);
  t.equal(threadRankData(), undefined);
});

t.test('a thread gets its workerData only when its environment marks it a rank thread', async (t) => {
  const data = { dsmpiThreadControl: 'port' };
  t.same(await inWorker({ ...process.env, [Env.thread]: '1' }, data), data);
  const unmarked = { ...process.env };
  delete unmarked[Env.thread];
  t.equal(await inWorker(unmarked, data), null);
});
