import type { MessagePort } from 'node:worker_threads';
import type { ControlHandlers, ControlLink, CoordinatorToRank, RankToCoordinator } from '../protocol/rendezvous.ts';

/**
 * The control link of a rank that is a thread of dsrun (--threads): a MessagePort to the coordinator,
 * made by the launcher with the thread. Messages are plain objects, cloned by the port; no socket, no
 * handshake (only dsrun's own threads hold such a port) and no codec. The coordinator's heartbeat
 * pings are answered here, from the rank's event loop, as a WebSocket answers them.
 */
export class PortControl implements ControlLink {
  private finished = false;

  constructor(
    private readonly port: MessagePort,
    handlers: ControlHandlers,
  ) {
    port.on('message', (msg: CoordinatorToRank) => {
      if (msg.t === 'ping') return this.post({ t: 'pong' });
      if (msg.t === 'finish') this.finished = true;
      handlers.onMessage(msg);
    });
    port.on('close', () => {
      if (!this.finished) handlers.onLost('the launcher closed the control port');
    });
  }

  send(msg: RankToCoordinator): Promise<void> {
    this.post(msg);
    return Promise.resolve();
  }

  close(): void {
    this.finished = true;
    this.port.close();
  }

  private post(msg: RankToCoordinator): void {
    if (!this.finished) this.port.postMessage(msg);
  }
}
