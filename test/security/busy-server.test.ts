// A server whose event loop cannot run for longer than the handshake deadline (a launcher starting
// a big job on a loaded machine) still completes the handshake that was waiting for it: its
// deadline counts only the time it could run, and the dialler, which reached it, leaves the verdict
// to it. (That a connection which never finishes its handshake is still cut off: limits.test.ts.)
import { fork } from 'node:child_process';
import t from 'tap';
import { tsxLoader } from '../../launcher/tsx-loader.ts';
import { HANDSHAKE_DEADLINE_MS, Party } from '../../runtime/protocol/handshake.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import { dial } from '../../runtime/protocol/ws-dial.ts';

t.test('a handshake waits out a server blocked for longer than the deadline', async (t) => {
  const key = randomKey();
  const server = fork(new URL('../fixtures/busy-server.ts', import.meta.url), [key.toString('hex')], {
    execArgv: ['--import', tsxLoader],
    stdio: ['pipe', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  t.teardown(() => {
    server.kill('SIGKILL');
    return exited;
  });
  // What the server made of the connection: let it in, or refused it.
  let decided: (verdict: string) => void = () => {};
  const verdict = new Promise<string>((resolve) => (decided = resolve));
  const port = await new Promise<number>((resolve) => {
    server.on('message', (msg: { port?: number; blocking?: true; opened?: string; refused?: string }) => {
      if (msg.port !== undefined) resolve(msg.port);
      // The server's loop now stands still; it runs again well past the deadline.
      if (msg.blocking) setTimeout(() => server.stdin!.write('x'), HANDSHAKE_DEADLINE_MS * 1.5);
      if (msg.opened) decided(`opened ${msg.opened}`);
      if (msg.refused) decided(`refused: ${msg.refused}`);
    });
  });
  const outcome = await new Promise<string>((resolve) =>
    dial(
      { url: `ws://127.0.0.1:${port}`, hello: { purpose: 'control', jobId: 'busy', from: Party.rank(0), to: Party.coordinator }, key },
      {
        open: (socket) => {
          socket.close();
          resolve('open');
        },
        fail: (err) => resolve(`failed: ${err.message}`),
      },
    ),
  );
  t.equal(outcome, 'open', 'the dialler got in');
  if (outcome === 'open') t.equal(await verdict, `opened ${Party.rank(0)}`, 'the server let it in');
  server.send('close');
  await exited;
});
