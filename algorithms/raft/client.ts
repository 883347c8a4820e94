/**
 * The client each rank also is: it keeps up to `window` of its commands in flight at the leader it
 * knows, resends late ones, and follows a Redirect; the lowest live rank takes over the commands of
 * clients the runtime reports dead.
 */
import type { Input, Out } from '../common/serve.ts';
import { range } from '../common/serve.ts';
import { Tag, type Command } from './messages.ts';
import { leaderAppend } from './replication.ts';
import type { RaftState } from './state.ts';

/** Client: keep up to `window` own commands in flight at the leader this server knows, resend late ones. */
export function pump(s: RaftState, nowMs: number, out: Out[]): void {
  if (s.finished || s.leaderId === null) return;
  const batch: Command[] = [];
  let inFlight = 0;
  while (s.mineFrom < s.mine.length && s.appliedSet.has(s.mine[s.mineFrom])) s.mineFrom++;
  for (let i = s.mineFrom; i < s.mine.length; i++) {
    const c = s.mine[i];
    if (s.appliedSet.has(c)) continue;
    if (inFlight++ >= s.options.window) break;
    const sent = s.sentMs.get(c);
    if (sent === undefined || nowMs - sent >= s.options.retryMs) {
      s.sentMs.set(c, nowMs);
      batch.push(c);
    }
  }
  if (batch.length === 0) return;
  if (s.leaderId === s.rank) out.push(...leaderAppend(s, batch, nowMs));
  else out.push({ to: s.leaderId, tag: Tag.Submit, data: { commands: batch } });
}

/** Commands submitted to this server: appended if it leads, else redirected to the leader it knows. */
export function onSubmit(s: RaftState, from: number, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const now = input.nowMs;
  const commands = d.commands as Command[];
  if (s.role === 'leader') out.push(...leaderAppend(s, commands, now));
  else if (s.leaderId !== null && s.leaderId !== s.rank)
    out.push({
      to: from,
      tag: Tag.Redirect,
      data: { leader: s.leaderId, commands },
    });
}

/** A client sent to a server that is not the leader: try the one it names. */
export function onRedirect(s: RaftState, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const now = input.nowMs;
  const leader = d.leader as number;
  if (leader === s.rank) out.push(...(s.role === 'leader' ? leaderAppend(s, d.commands as Command[], now) : []));
  else
    out.push({
      to: leader,
      tag: Tag.Submit,
      data: { commands: d.commands },
    });
}

/** At the client's tick: adopt dead clients' commands (the lowest live rank), then send what is due. */
export function clientTick(s: RaftState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
  if (now < s.nextClientMs) return;
  s.nextClientMs = now + s.options.retryMs / 2;
  const live = range(0, s.size).filter((r) => !input.failed.includes(r));
  const adopted = live[0] === s.rank ? input.failed.flatMap((r) => s.values[r] ?? []) : [];
  if (adopted.length > 0 && s.mine.length !== s.values[s.rank].length + adopted.length) {
    s.mine = [...s.values[s.rank], ...adopted];
    s.mineFrom = 0;
  }
  pump(s, now, out);
}
