import t from 'tap';
import { MemoryNetwork } from '../../runtime/transport/memory.ts';
import { conformance } from './conformance.ts';

conformance(t, 'memory', async (n) => {
  const net = new MemoryNetwork(n);
  const transports = Array.from({ length: n }, (_, r) => net.endpoint(r));
  return { transports, crash: (r) => net.kill(r), cleanup: async () => {} };
});
