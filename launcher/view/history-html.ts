import type { Operation } from '../../algorithms/checkers/linearizability.ts';

export interface HistoryHtmlOptions {
  title?: string;
  /** Text for an operation (the model's `describe`). */
  describe: (op: Operation<unknown, unknown>) => string;
  /** Operations to mark as the illegal sub-history. */
  highlight?: ReadonlyArray<Operation<unknown, unknown>>;
  /** A line of explanation above the drawing. */
  verdict?: string;
}

/**
 * A client history drawn as a self-contained HTML page: one lane per client, each operation a bar
 * from its invocation to its return (open-ended when its outcome is unknown), the illegal
 * sub-history in red.
 */
export function renderHistoryHtml(ops: ReadonlyArray<Operation<unknown, unknown>>, options: HistoryHtmlOptions): string {
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const clients = [...new Set(ops.map((o) => String(o.client)))].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  const finite = ops.flatMap((o) => (Number.isFinite(o.ret) ? [o.call, o.ret] : [o.call]));
  const start = Math.min(...finite);
  const end = Math.max(...finite) + 1;
  const LANE = 44;
  const LEFT = 90;
  const WIDTH = Math.max(700, Math.min(4000, ops.length * 30));
  const x = (t: number): number => LEFT + ((Math.min(t, end) - start) / (end - start)) * (WIDTH - LEFT - 20);
  const highlighted = new Set(options.highlight ?? []);
  const bars: string[] = [];
  clients.forEach((c, i) => {
    const y = 20 + i * LANE;
    bars.push(`<text class="client" x="8" y="${y + 18}">client ${esc(c)}</text>`);
    for (const op of ops.filter((o) => String(o.client) === c)) {
      const open = !Number.isFinite(op.ret);
      const cls = `op${highlighted.has(op) ? ' illegal' : ''}${open ? ' open' : ''}`;
      const w = Math.max(3, x(op.ret) - x(op.call));
      const label = options.describe(op);
      bars.push(
        `<g class="${cls}"><rect x="${x(op.call)}" y="${y + 4}" width="${w}" height="20"/><text x="${x(op.call) + 3}" y="${y + 18}">${esc(label)}</text><title>${esc(label)} [${op.call}, ${open ? '∞' : op.ret}]</title></g>`,
      );
    }
  });
  const height = 30 + clients.length * LANE;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(options.title ?? 'history')}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
  .op rect { fill: #dbe4ff; stroke: #3366cc; }
  .op.open rect { stroke-dasharray: 4 3; fill: #f1f3f5; }
  .op.illegal rect { fill: #ffe3e3; stroke: #cc0000; stroke-width: 2; }
  .op text { font-size: 11px; }
  .client { font-weight: 600; }
  #history { overflow-x: auto; }
</style></head>
<body>
<h1 style="font-size:16px">${esc(options.title ?? 'history')}</h1>
<p>${esc(options.verdict ?? '')}</p>
<p>Each bar runs from an operation's invocation to its return; dashed bars never returned (outcome unknown). ${highlighted.size ? 'Red: an illegal sub-history (no order of these operations inside their intervals is legal; dropping any one of its reads makes one legal).' : ''}</p>
<div id="history"><svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">${bars.join('')}</svg></div>
</body></html>
`;
}
