import type { WebSocket } from '../runtime/protocol/ws-server.ts';

/** A peer that can be pinged other than over a WebSocket (a rank thread's control port). */
export interface Pingable {
  /** Sends a ping if the link is open; false if it is not. */
  ping(): boolean;
  /** Calls `heard` for whatever the peer sends: the answer to a ping, or any message. */
  onAnswer(heard: () => void): void;
}

/**
 * Whether the peer at the other end of a WebSocket (or a Pingable link) still answers: each `tick()`
 * pings it, and anything it sends (a pong or a message) is an answer. Pings are counted, not
 * milliseconds: a process descheduled for seconds (a loaded machine) finds its peers' answers
 * waiting once it reads its sockets again, so its own stall costs each peer one missed ping at most,
 * never a false "lost".
 */
export class PingWatch {
  private unanswered = 0;
  private lastHeardMs = Date.now();
  private readonly peer: Pingable;

  constructor(
    peer: WebSocket | Pingable,
    /** Pings in a row left unanswered that make the peer silent. */
    private readonly misses: number,
  ) {
    this.peer = 'onAnswer' in peer ? peer : socketPeer(peer);
    this.peer.onAnswer(this.heard);
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
    if (this.peer.ping()) this.unanswered++;
    return undefined;
  }
}

function socketPeer(socket: WebSocket): Pingable {
  return {
    ping: () => {
      if (socket.readyState !== socket.OPEN) return false;
      socket.ping();
      return true;
    },
    onAnswer: (heard) => {
      socket.on('pong', heard);
      socket.on('message', heard);
    },
  };
}
