import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';
import { rankCountOf as rankCount } from './page/model.js';

/**
 * The run as text for a terminal: one line per event, time first, a column per rank with a mark
 * where it happened (`●` a message leaves, `▶` one arrives, `✗` lost, `✖` crash), then words.
 */
export function renderText(events: readonly TraceEvent[], tagNames: Record<number, string> = {}): string {
  const n = rankCount(events);
  const width = Math.max(3, String(n - 1).length + 2);
  const tag = (e: TraceEvent): string => (e.tag === undefined ? '' : ` ${tagNames[e.tag] ?? `tag ${e.tag}`}`);
  const size = (e: TraceEvent): string => (e.bytes === undefined ? '' : ` (${e.bytes} B)`);
  const lines = [`${'t (ms)'.padStart(10)} │${Array.from({ length: n }, (_, r) => `r${r}`.padStart(width)).join('')} │ event`];
  for (const e of events) {
    const cols = new Array<string>(n).fill('·');
    let text: string;
    switch (e.ev) {
      case 'send':
        cols[e.rank!] = '●';
        text = `rank ${e.rank} sends${tag(e)} to rank ${e.to}${size(e)}`;
        break;
      case 'deliver':
        cols[e.rank!] = '▶';
        text = `rank ${e.rank} gets${tag(e)} from rank ${e.from}`;
        break;
      case 'drop':
        cols[e.rank!] = '✗';
        text = `lost:${tag(e)} from rank ${e.rank} to rank ${e.to}${e.reason ? ` (${e.reason})` : ''}`;
        break;
      case 'crash':
        cols[e.rank!] = '✖';
        text = `rank ${e.rank} crashes`;
        break;
      default: {
        if (typeof e.rank === 'number') cols[e.rank] = '◆';
        const who = typeof e.rank === 'number' ? `rank ${e.rank} ` : '';
        const extra =
          e.ev === 'partition' || e.ev === 'heal'
            ? ` ${JSON.stringify(e.from)} ${e.oneWay ? '→' : '↮'} ${JSON.stringify(e.to)}`
            : e.ev === 'detect'
              ? ` rank ${e.from} lost`
              : '';
        text = `${who}${e.ev}${extra}${e.reason ? `: ${e.reason}` : ''}`;
      }
    }
    lines.push(`${e.t.toFixed(3).padStart(10)} │${cols.map((c) => c.padStart(width)).join('')} │ ${text}`);
  }
  return lines.join('\n') + '\n';
}
