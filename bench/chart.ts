/**
 * The open-loop sweep as one SVG, no dependencies: left, create→final p50/p99 and completed/s against
 * the offered rate (Paystream and the no-op floor); right, CPU ms per order stacked by process.
 */
import type { RateStep } from './open-loop';

const W = 960;
const H = 380;
const PAD = { l: 56, r: 20, t: 36, b: 48 };
const COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#86bcb6',
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

interface Panel {
  x0: number;
  width: number;
}

function axes(panel: Panel, xs: number[], yMax: number, yLabel: string, title: string): string[] {
  const { x0, width } = panel;
  const h = H - PAD.t - PAD.b;
  const out = [
    `<text x="${x0 + width / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${x0}" y1="${PAD.t}" x2="${x0}" y2="${PAD.t + h}" stroke="#333"/>`,
    `<line x1="${x0}" y1="${PAD.t + h}" x2="${x0 + width}" y2="${PAD.t + h}" stroke="#333"/>`,
    `<text x="${x0 - 40}" y="${PAD.t + h / 2}" transform="rotate(-90 ${x0 - 40} ${PAD.t + h / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
    `<text x="${x0 + width / 2}" y="${H - 10}" text-anchor="middle">offered orders/s</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + h - (h * i) / 4;
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + width}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${round((yMax * i) / 4)}</text>`);
  }
  xs.forEach((x, i) => {
    const px = x0 + ((i + 0.5) * width) / xs.length;
    out.push(`<text x="${px}" y="${PAD.t + h + 16}" text-anchor="middle">${x}</text>`);
  });
  return out;
}

const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);

export function sweepChart(system: RateStep[], floor: RateStep[]): string {
  const half = (W - PAD.l - PAD.r) / 2 - 40;
  const left: Panel = { x0: PAD.l, width: half };
  const right: Panel = { x0: PAD.l + half + 90, width: half };
  const h = H - PAD.t - PAD.b;
  const rates = system.map((s) => s.rate);
  const out: string[] = [];

  // Left: latency (log-free, capped at 5 s so the knee shows) and completed/s on a second scale.
  const cap = 5000;
  const latMax = niceMax(
    Math.min(cap, Math.max(1, ...system.map((s) => s.toFinalMs.p99), ...floor.map((s) => s.toFinalMs.p99))),
  );
  out.push(...axes(left, rates, latMax, 'create→final ms (p50, p99)', 'Latency and throughput'));
  const px = (i: number, panel: Panel) => panel.x0 + ((i + 0.5) * panel.width) / rates.length;
  const py = (v: number, max: number) => PAD.t + h - (h * Math.min(v, max)) / max;
  const series = (steps: RateStep[], pick: (s: RateStep) => number, max: number, colour: string, dash = '') =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${steps
      .map((s, i) => `${px(i, left)},${py(pick(s), max)}`)
      .join(' ')}"/>`;
  out.push(series(system, (s) => s.toFinalMs.p50, latMax, COLOURS[0]!));
  out.push(series(system, (s) => s.toFinalMs.p99, latMax, COLOURS[2]!));
  out.push(series(floor, (s) => s.toFinalMs.p99, latMax, COLOURS[2]!, '4 3'));
  const rateMax = niceMax(Math.max(...rates));
  out.push(series(system, (s) => s.completedPerSecond, rateMax, COLOURS[4]!));
  out.push(series(floor, (s) => s.completedPerSecond, rateMax, COLOURS[4]!, '4 3'));
  out.push(`<text x="${left.x0 + left.width + 4}" y="${PAD.t + 4}" font-size="10">${rateMax}/s</text>`);
  const legend = [
    [COLOURS[0]!, '', 'p50'],
    [COLOURS[2]!, '', 'p99'],
    [COLOURS[4]!, '', 'completed/s (right scale)'],
    ['#333', '4 3', 'dashed: no-op floor'],
  ];
  legend.forEach(([c, d, label], i) => {
    const y = PAD.t + 12 + i * 14;
    out.push(
      `<line x1="${left.x0 + 8}" y1="${y}" x2="${left.x0 + 28}" y2="${y}" stroke="${c}" stroke-width="2" ${d ? `stroke-dasharray="${d}"` : ''}/>`,
    );
    out.push(`<text x="${left.x0 + 32}" y="${y + 4}" font-size="10">${esc(label!)}</text>`);
  });

  // Right: CPU per order, stacked by process.
  const names = [...new Set(system.flatMap((s) => Object.keys(s.cpuMsPerOrder)))].sort();
  const cpuMax = niceMax(Math.max(1, ...system.map((s) => s.cpuMsPerOrderTotal)));
  out.push(...axes(right, rates, cpuMax, 'CPU ms per order', 'CPU per order by process'));
  const bar = (right.width / rates.length) * 0.6;
  system.forEach((s, i) => {
    let base = 0;
    names.forEach((name, k) => {
      const v = s.cpuMsPerOrder[name] ?? 0;
      const y = py(base + v, cpuMax);
      out.push(
        `<rect x="${px(i, right) - bar / 2}" y="${y}" width="${bar}" height="${py(base, cpuMax) - y}" fill="${COLOURS[k % COLOURS.length]}"><title>${esc(name)} ${v} ms</title></rect>`,
      );
      base += v;
    });
  });
  names.forEach((name, k) => {
    const y = PAD.t + 8 + k * 13;
    out.push(
      `<rect x="${right.x0 + right.width - 96}" y="${y - 8}" width="10" height="10" fill="${COLOURS[k % COLOURS.length]}"/>`,
    );
    out.push(`<text x="${right.x0 + right.width - 82}" y="${y + 1}" font-size="10">${esc(name)}</text>`);
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
