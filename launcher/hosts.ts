/**
 * Host lists for multi-host runs (docs/multi-host.md): `--hosts a:4,b:7411:4` and hostfiles in
 * OpenMPI's style (`a slots=4`, `b:7411 slots=4`, `# comments`), and the placement of ranks on slots.
 */

/** Port a `dsrun agent` listens on unless told otherwise. */
export const DEFAULT_AGENT_PORT = 7411;

export interface HostEntry {
  /** Address or name of the machine, as the user wrote it. */
  host: string;
  /** Port its agent listens on. */
  port: number;
  slots: number;
}

function parseHostPort(text: string, where: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const parts = text.split(':');
    if (parts.length > 2) throw new Error(`${where}: '${text}' is not host[:port] (write IPv6 addresses in brackets)`);
    [host, portText] = parts;
  }
  if (!host) throw new Error(`${where}: empty host name`);
  const port = portText === undefined || portText === '' ? DEFAULT_AGENT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${where}: bad port '${portText}'`);
  return { host, port };
}

function parseSlots(text: string, where: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: slots must be a whole number >= 1, got '${text}'`);
  return n;
}

/** `a:4,b:7411:4,[fe80::1]:7411:2,c` (slots default to 1). */
export function parseHostList(text: string): HostEntry[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('--hosts: no hosts given');
  return entries.map((entry) => {
    const where = `--hosts entry '${entry}'`;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    // host:port:slots or host:slots ([v6]:port:slots, [v6]:slots).
    const v6 = entry.startsWith('[');
    const colons = v6 ? entry.slice(entry.indexOf(']') + 1).split(':').length - 1 : entry.split(':').length - 1;
    if (colons === 0) return { ...parseHostPort(entry, where), slots: 1 };
    const slots = parseSlots(m[2] ?? '', where);
    return { ...parseHostPort(m[1], where), slots };
  });
}

/** An OpenMPI-style hostfile: `host[:port] [slots=N]` a line; `#` starts a comment. */
export function parseHostfile(text: string, name = 'hostfile'): HostEntry[] {
  const hosts: HostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const where = `${name}:${i + 1}`;
    const [first, ...rest] = line.split(/\s+/);
    let slots = 1;
    for (const word of rest) {
      const kv = /^(slots|max[-_]slots)=(.*)$/.exec(word);
      if (!kv) throw new Error(`${where}: unknown '${word}' (expected slots=N)`);
      if (kv[1] === 'slots') slots = parseSlots(kv[2], where);
    }
    hosts.push({ ...parseHostPort(first, where), slots });
  });
  if (hosts.length === 0) throw new Error(`${name}: no hosts`);
  return hosts;
}

/**
 * Places `np` ranks on the hosts' slots in order (ranks 0..s0-1 on the first host, ...). More ranks
 * than slots is an error unless `oversubscribe`, which then goes round the hosts again, one slot's
 * worth at a time. Returns the host index of each rank.
 */
export function placeRanks(hosts: HostEntry[], np: number, oversubscribe: boolean): number[] {
  const total = hosts.reduce((sum, h) => sum + h.slots, 0);
  if (np > total && !oversubscribe) {
    throw new Error(`${np} ranks but only ${total} slot(s) on ${hosts.length} host(s); add slots or pass --oversubscribe`);
  }
  const placement: number[] = [];
  while (placement.length < np) {
    for (let h = 0; h < hosts.length && placement.length < np; h++) {
      for (let s = 0; s < hosts[h].slots && placement.length < np; s++) placement.push(h);
    }
  }
  return placement;
}
