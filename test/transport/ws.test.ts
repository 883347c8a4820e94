import t from 'tap';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { conformance } from './conformance.ts';

conformance(t, 'ws', async (n) => {
  const addresses: string[] = [];
  const transports = await Promise.all(
    Array.from({ length: n }, (_, rank) =>
      WsTransport.listen({ rank, size: n, jobId: 'conformance', token: 'secret-token', resolve: async (p) => addresses[p] }),
    ),
  );
  transports.forEach((tr, r) => (addresses[r] = tr.address));
  return {
    transports,
    crash: (r) => transports[r].terminate(),
    cleanup: async () => {
      await Promise.all(transports.map((tr) => tr.close()));
    },
  };
});
