import type { Buffer } from 'node:buffer';
import type { WebSocket } from 'ws';
import { DsError, ErrorCode } from '../errors.ts';
import { decodeValue, encodeValue } from '../protocol/control-codec.ts';
import { Party } from '../protocol/handshake.ts';
import { tlsKey } from '../protocol/keys.ts';
import {
  CONTROL_MAX_FRAME,
  type ControlHandlers,
  type ControlLink,
  type CoordinatorToRank,
  type RankToCoordinator,
} from '../protocol/rendezvous.ts';
import { dial } from '../protocol/ws-dial.ts';
import type { RankTls } from './rank-tls.ts';

export interface ControlChannelOptions extends ControlHandlers {
  url: string;
  jobId: string;
  /** The job's ranks key (runtime/protocol/keys.ts). */
  key: Buffer;
  rank: number;
  /** For a wss:// url: a certificate's CA, or TLS-PSK (rank-tls.ts). */
  tls?: RankTls;
}

/** The rank's end of the control protocol with the dsrun coordinator, over a WebSocket. */
export class ControlChannel implements ControlLink {
  private finished = false;

  private constructor(private readonly socket: WebSocket) {}

  static connect(options: ControlChannelOptions): Promise<ControlChannel> {
    const tls = options.tls;
    return new Promise((resolve, reject) => {
      dial(
        {
          url: options.url,
          hello: { purpose: 'control', jobId: options.jobId, from: Party.rank(options.rank), to: Party.coordinator },
          key: options.key,
          tls: tls && (tls.kind === 'cert' ? { ca: tls.ca } : { psk: tlsKey(options.key, 'control'), identity: options.jobId }),
          ws: { maxPayload: CONTROL_MAX_FRAME },
        },
        {
          open: (socket) => {
            const channel = new ControlChannel(socket);
            socket.on('message', (data: Buffer, isBinary: boolean) => {
              const msg = isBinary ? readControl(data) : undefined;
              if (!msg) {
                options.onError(new DsError(ErrorCode.Decode, `malformed control frame from the launcher (${data.length} bytes) ignored`));
                return;
              }
              if (msg.t === 'finish') channel.finished = true;
              options.onMessage(msg);
            });
            socket.on('error', (err) => options.onError(new DsError(ErrorCode.Decode, `control connection: ${err.message}`)));
            socket.on('close', () => {
              if (!channel.finished) options.onLost('the launcher closed the control connection');
            });
            resolve(channel);
          },
          fail: (err) => {
            if (err.status !== undefined) reject(new Error(`the launcher refused this rank (HTTP ${err.status})`));
            else if (err.code !== undefined) reject(new Error(`the launcher refused this rank: ${err.message}`));
            else reject(new Error(`cannot reach the rendezvous at ${options.url}: ${err.message}`));
          },
        },
      );
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

/** A control message, or undefined for bytes that are not one (not MessagePack, or no `t`). */
function readControl(data: Buffer): CoordinatorToRank | undefined {
  try {
    const msg = decodeValue(data) as CoordinatorToRank | null;
    return msg !== null && typeof msg === 'object' && typeof msg.t === 'string' ? msg : undefined;
  } catch {
    return undefined;
  }
}
