import type { MessagePort } from 'node:worker_threads';
import { threadControlKey, type ControlLink } from '../protocol/rendezvous.ts';
import type { ControlChannelOptions } from './control-channel.ts';
import { PortControl } from './control-port.ts';
import { threadRankData } from './thread-data.ts';

/**
 * Opens the rank's control link: the MessagePort dsrun handed a rank thread (--threads), else a
 * WebSocket to the rendezvous. The WebSocket code is loaded only then, so that thread ranks never
 * run it.
 */
export async function openControl(options: ControlChannelOptions): Promise<ControlLink> {
  const port = threadRankData()?.[threadControlKey] as MessagePort | undefined;
  if (port) return new PortControl(port, options);
  const { ControlChannel } = await import('./control-channel.ts');
  return ControlChannel.connect(options);
}
