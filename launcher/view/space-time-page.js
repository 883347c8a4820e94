// The browser side of `dsrun view`: draws the run embedded in the page (window.DSMPI_RUN) as a
// space-time (Lamport) diagram in SVG. One horizontal line per rank, time to the right, an arrow per
// message from its send to its delivery. Plain JavaScript, no network fetches.
/* global document, window */
(function () {
  const run = window.DSMPI_RUN;
  const LANE = 64;
  const LEFT = 80;
  const TOP = 48;
  const svgNs = 'http://www.w3.org/2000/svg';
  const chart = document.getElementById('chart');
  const details = document.getElementById('details');
  const zoomLabel = document.getElementById('zoom');
  const duration = Math.max(run.duration, 1e-3);
  let scale = Math.max(1e-3, (chart.clientWidth - LEFT - 40) / duration); // px per ms
  let selected = -1;

  const x = (t) => LEFT + t * scale;
  const y = (rank) => TOP + rank * LANE;
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const tagName = (m) => (m.tag === undefined ? '' : (run.tagNames[m.tag] ?? `tag ${m.tag}`));

  function render() {
    const width = x(duration) + 40;
    const height = TOP + run.ranks * LANE;
    const parts = [];
    parts.push(
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3366cc"/></marker>',
    );
    parts.push(
      '<marker id="arrow-sel" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#e67700"/></marker></defs>',
    );
    for (const f of run.faults) {
      if (f.ev === 'partition') {
        const end = f.until ?? duration;
        parts.push(
          `<rect class="partition" x="${x(f.t)}" y="${TOP - 20}" width="${Math.max(1, x(end) - x(f.t))}" height="${run.ranks * LANE}"><title>partition ${esc(f.label)}</title></rect>`,
        );
        parts.push(`<text class="partition-label" x="${x(f.t) + 4}" y="${TOP - 24}">partition ${esc(f.label)}</text>`);
      } else if (f.ev === 'pause') {
        const end = f.until ?? duration;
        parts.push(
          `<rect class="pause" x="${x(f.t)}" y="${y(f.rank) - 10}" width="${Math.max(1, x(end) - x(f.t))}" height="20"><title>rank ${f.rank} paused</title></rect>`,
        );
      }
    }
    for (let r = 0; r < run.ranks; r++) {
      parts.push(
        `<g class="lane"><text class="lane-label" x="10" y="${y(r) + 4}">rank ${r}</text><line x1="${LEFT}" y1="${y(r)}" x2="${width - 20}" y2="${y(r)}"/></g>`,
      );
    }
    run.messages.forEach((m, i) => {
      const x1 = x(m.sentAt);
      const y1 = y(m.from);
      const cls = i === selected ? ' selected' : '';
      for (const d of m.deliveries) {
        const x2 = x(d.t);
        const y2 = y(m.to);
        parts.push(
          `<line class="msg${cls}" data-i="${i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#${i === selected ? 'arrow-sel' : 'arrow'})"/>`,
        );
        parts.push(`<line class="hit" data-i="${i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`);
        if (Math.hypot(x2 - x1, y2 - y1) > 70) {
          parts.push(`<text class="msg-label" x="${(x1 + x2) / 2 + 4}" y="${(y1 + y2) / 2 - 4}">${esc(tagName(m))}</text>`);
        }
      }
      if (m.dropped) {
        const x2 = x(m.dropped.t);
        const y2 = y1 + (y(m.to) - y1) / 2;
        parts.push(`<line class="msg dropped${cls}" data-i="${i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`);
        parts.push(`<line class="hit" data-i="${i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`);
        parts.push(`<text class="drop-mark" x="${x2 - 5}" y="${y2 + 5}">✗</text>`);
      }
    });
    for (const f of run.faults) {
      if (f.ev === 'crash')
        parts.push(
          `<text class="crash" x="${x(f.t) - 7}" y="${y(f.rank) + 7}">✖<title>rank ${f.rank} crashed${f.reason ? ` (${esc(f.reason)})` : ''}</title></text>`,
        );
      if (f.ev === 'restart')
        parts.push(`<text class="restart" x="${x(f.t) - 6}" y="${y(f.rank) + 6}">↻<title>rank ${f.rank} restarted</title></text>`);
      if (f.ev === 'exit')
        parts.push(
          `<circle class="exit" cx="${x(f.t)}" cy="${y(f.rank)}" r="4"><title>rank ${f.rank} returned${f.reason ? `: ${esc(f.reason)}` : ''}</title></circle>`,
        );
    }
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('id', 'diagram');
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.innerHTML = parts.join('');
    chart.replaceChildren(svg);
    zoomLabel.textContent = `${(1 / scale).toPrecision(3)} ms per pixel`;
  }

  function show(i) {
    selected = i;
    const m = run.messages[i];
    const rows = [
      ['message', `rank ${m.from} → rank ${m.to}, number ${m.msg} of rank ${m.from}`],
      ['tag', m.tag === undefined ? '' : `${m.tag}${run.tagNames[m.tag] ? ` (${run.tagNames[m.tag]})` : ''}`],
      ['communicator context', m.ctx ?? ''],
      ['size', m.bytes === undefined ? '' : `${m.bytes} bytes`],
      ['sent at', `${m.sentAt} ms, Lamport ${m.sendLamport ?? '?'}, vector [${m.sendVector.join(', ')}]`],
      ...m.deliveries.map((d, k) => [
        m.deliveries.length > 1 ? `delivered (copy ${k + 1})` : 'delivered',
        `${d.t} ms, Lamport ${d.lamport ?? '?'}, vector [${d.vector.join(', ')}]`,
      ]),
      ...(m.dropped ? [['dropped', `${m.dropped.t} ms (${m.dropped.reason ?? 'lost'})`]] : []),
      ...(m.data === undefined ? [] : [['payload', JSON.stringify(m.data)]]),
    ];
    details.innerHTML = `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
    render();
  }

  function zoom(factor, atClientX) {
    const rect = chart.getBoundingClientRect();
    const px = (atClientX ?? rect.left + rect.width / 2) - rect.left + chart.scrollLeft;
    const t = (px - LEFT) / scale;
    scale = Math.min(1e6, Math.max(1e-4, scale * factor));
    render();
    chart.scrollLeft = Math.max(0, LEFT + t * scale - (px - chart.scrollLeft));
  }

  chart.addEventListener('click', (ev) => {
    const i = ev.target.getAttribute && ev.target.getAttribute('data-i');
    if (i !== null && i !== undefined) show(Number(i));
  });
  chart.addEventListener(
    'wheel',
    (ev) => {
      if (!ev.ctrlKey && !ev.metaKey) return; // plain wheel scrolls
      ev.preventDefault();
      zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX);
    },
    { passive: false },
  );
  document.getElementById('zoom-in').addEventListener('click', () => zoom(1.5));
  document.getElementById('zoom-out').addEventListener('click', () => zoom(1 / 1.5));
  document.getElementById('zoom-fit').addEventListener('click', () => {
    scale = Math.max(1e-3, (chart.clientWidth - LEFT - 40) / duration);
    render();
  });
  render();
  // A link such as run.html#msg=12 opens with that message selected.
  const linked = /^#msg=(\d+)$/.exec(window.location.hash);
  if (linked && run.messages[Number(linked[1])]) show(Number(linked[1]));
})();
