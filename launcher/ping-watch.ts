import type { WebSocket } from '../runtime/protocol/ws-server.ts';

/**
 * Whether the peer at the other end of a WebSocket still answers: each `tick()` pings it, and
 * anything it sends (a pong or a message) is an answer. Pings are counted, not milliseconds: a
 * process descheduled for seconds (a loaded machine) finds its peers' answers waiting once it reads
 * its sockets again, so its own stall costs each peer one missed ping at most, never a false "lost".
 */
export class PingWatch {
  private unanswered = 0;
  private lastHeardMs = Date.now();

  constructor(
    private readonly socket: WebSocket,
    /** Pings in a row left unanswered that make the peer silent. */
    private readonly misses: number,
  ) {
    socket.on('pong', this.heard);
    socket.on('message', this.heard);
  }

  private readonly heard = (): void => {
    this.unanswered = 0;
    this.lastHeardMs = Date.now();
  };

  /**
   * Pings the peer; or, if it has left `misses` pings in a row unanswered, returns how long it has
   * been silent (ms) and counts afresh, so a silence is reported once.
   */
  tick(): number | undefined {
    if (this.unanswered >= this.misses) {
      this.unanswered = 0;
      return Date.now() - this.lastHeardMs;
    }
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.ping();
      this.unanswered++;
    }
    return undefined;
  }
}
