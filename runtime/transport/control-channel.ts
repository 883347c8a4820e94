import { Buffer } from 'node:buffer';
import { WebSocket } from 'ws';
import { decodeValue, encodeValue } from '../protocol/control-codec.ts';
import type { CoordinatorToRank, RankToCoordinator } from '../protocol/rendezvous.ts';
import { AuthHeader, checkReply, handshakeHeaders } from './auth.ts';
import { describeConnectError } from './rank-tls.ts';

export interface ControlChannelOptions {
  url: string;
  jobId: string;
  token: string;
  rank: number;
  /** For a wss:// url: the CA (PEM) the rendezvous's certificate must chain to (default: the system's). */
  ca?: Buffer;
  onMessage: (msg: CoordinatorToRank) => void;
  /** The coordinator went away without `finish`: the launcher is gone, so the rank must stop. */
  onLost: (reason: string) => void;
}

/** The rank's end of the control protocol with the dsrun coordinator. */
export class ControlChannel {
  private readonly socket: WebSocket;
  private finished = false;

  private constructor(socket: WebSocket) {
    this.socket = socket;
  }

  static connect(options: ControlChannelOptions): Promise<ControlChannel> {
    const headers = handshakeHeaders('control', options.jobId, options.token, options.rank);
    const socket = new WebSocket(options.url, { headers, perMessageDeflate: false, ...(options.ca ? { ca: options.ca } : {}) });
    // The rendezvous proves it holds the job token too: a rank never registers with an impostor.
    socket.on('upgrade', (res) => {
      if (!checkReply('control', options.token, headers, res.headers[AuthHeader.reply])) socket.terminate();
    });
    const channel = new ControlChannel(socket);
    socket.on('message', (data: Buffer) => {
      const msg = decodeValue(data) as CoordinatorToRank;
      if (msg.t === 'finish') channel.finished = true;
      options.onMessage(msg);
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.on('close', () => {
          if (!channel.finished) options.onLost('the launcher closed the control connection');
        });
        resolve(channel);
      });
      socket.once('error', (err) => reject(new Error(`cannot reach the rendezvous at ${options.url}: ${describeConnectError(err)}`)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`the launcher refused this rank (HTTP ${res.statusCode})`)));
    });
  }

  send(msg: RankToCoordinator): Promise<void> {
    return new Promise((resolve) => this.socket.send(encodeValue(msg), () => resolve()));
  }

  close(): void {
    this.finished = true;
    this.socket.close();
  }
}
