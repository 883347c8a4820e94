import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import type { DsError } from '../errors.ts';
import { threadControlKey, type CoordinatorToRank, type RankToCoordinator } from '../protocol/rendezvous.ts';
import type { ControlChannelOptions } from './control-channel.ts';
import { PortControl } from './control-port.ts';

/** What a rank's control link to the dsrun coordinator delivers. */
export interface ControlHandlers {
  onMessage: (msg: CoordinatorToRank) => void;
  /** The coordinator went away without `finish`: the launcher is gone, so the rank must stop. */
  onLost: (reason: string) => void;
  /** A control frame that could not be read: reported, and ignored (the job goes on). */
  onError: (err: DsError) => void;
}

/** The rank's end of the control protocol (runtime/protocol/rendezvous.ts). */
export interface ControlLink {
  /** Resolves once the message is on its way. */
  send(msg: RankToCoordinator): Promise<void>;
  close(): void;
}

/**
 * Opens the rank's control link: the MessagePort dsrun handed a rank thread (--threads), else a
 * WebSocket to the rendezvous. The WebSocket code is loaded only then, so that thread ranks never
 * run it.
 */
export async function openControl(options: ControlChannelOptions): Promise<ControlLink> {
  const port = isMainThread ? undefined : ((workerData as Record<string, unknown> | undefined)?.[threadControlKey] as MessagePort | undefined);
  if (port) return new PortControl(port, options);
  const { ControlChannel } = await import('./control-channel.ts');
  return ControlChannel.connect(options);
}
