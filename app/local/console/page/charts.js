// Small inline SVG charts, drawn here so the console needs no library and no network.
const SVG = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#0969da', '#bf8700', '#cf222e', '#8250df', '#1a7f37', '#bc4c00', '#57606a', '#e85aad'];

function svgElement(name, attributes = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function frame(width, height) {
  return svgElement('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
}

const PAD = { left: 36, right: 8, top: 8, bottom: 22 };

/**
 * Stacked bars: `bins` along x (each with a label), `series` stacked in each;
 * `values[bin][series]` is the height. Each bar segment has a tooltip.
 */
export function stackedBars({ bins, series, values, width = 360, height = 150 }) {
  const svg = frame(width, height);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const max = Math.max(1, ...values.map((row) => row.reduce((sum, value) => sum + value, 0)));
  const barW = plotW / bins.length;
  axis(svg, width, height, max);
  bins.forEach((bin, b) => {
    let y = PAD.top + plotH;
    series.forEach((name, s) => {
      const value = values[b][s];
      if (!value) return;
      const h = (value / max) * plotH;
      y -= h;
      const rect = svgElement('rect', {
        x: PAD.left + b * barW + 1,
        y,
        width: Math.max(1, barW - 2),
        height: h,
        fill: PALETTE[s % PALETTE.length],
      });
      rect.append(svgElement('title', {}, `${name}: ${value} (${bin.label})`));
      svg.append(rect);
    });
  });
  const first = bins[0]?.label ?? '';
  const last = bins.at(-1)?.label ?? '';
  svg.append(svgElement('text', { x: PAD.left, y: height - 6 }, first));
  if (bins.length > 1)
    svg.append(svgElement('text', { x: width - PAD.right, y: height - 6, 'text-anchor': 'end' }, last));
  return svg;
}

/** A line with dots through (x, y) points, x numbers or times (ms), sorted by x. */
export function lineChart({ points, xIsTime, xLabel, yLabel, width = 520, height = 200 }) {
  const svg = frame(width, height);
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const xs = sorted.map((point) => point.x);
  const ys = sorted.map((point) => point.y);
  const [minX, maxX] = [Math.min(...xs), Math.max(...xs)];
  const [minY, maxY] = [Math.min(0, ...ys), Math.max(...ys)];
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const px = (x) => PAD.left + (maxX === minX ? plotW / 2 : ((x - minX) / (maxX - minX)) * plotW);
  const py = (y) => PAD.top + plotH - (maxY === minY ? plotH / 2 : ((y - minY) / (maxY - minY)) * plotH);
  axis(svg, width, height, maxY, minY);
  const path = sorted.map((point, i) => `${i ? 'L' : 'M'}${px(point.x).toFixed(1)},${py(point.y).toFixed(1)}`).join('');
  svg.append(svgElement('path', { d: path, fill: 'none', stroke: PALETTE[0], 'stroke-width': 1.5 }));
  for (const point of sorted) {
    const dot = svgElement('circle', { cx: px(point.x), cy: py(point.y), r: 2.5, fill: PALETTE[0] });
    dot.append(svgElement('title', {}, `${formatX(point.x, xIsTime)}: ${point.y}`));
    svg.append(dot);
  }
  svg.append(svgElement('text', { x: PAD.left, y: height - 6 }, `${xLabel}: ${formatX(minX, xIsTime)}`));
  svg.append(svgElement('text', { x: width - PAD.right, y: height - 6, 'text-anchor': 'end' }, formatX(maxX, xIsTime)));
  svg.append(svgElement('text', { x: PAD.left + 4, y: PAD.top + 10 }, yLabel));
  return svg;
}

function formatX(x, xIsTime) {
  return xIsTime ? new Date(x).toISOString().slice(0, 10) : String(Math.round(x * 100) / 100);
}

function axis(svg, width, height, max, min = 0) {
  const bottom = height - PAD.bottom;
  svg.append(svgElement('line', { x1: PAD.left, y1: bottom, x2: width - PAD.right, y2: bottom, stroke: '#d0d7de' }));
  svg.append(svgElement('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, stroke: '#d0d7de' }));
  svg.append(svgElement('text', { x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end' }, compact(max)));
  svg.append(svgElement('text', { x: PAD.left - 4, y: bottom, 'text-anchor': 'end' }, compact(min)));
}

function compact(n) {
  return Math.abs(n) >= 1000 ? `${Math.round(n / 100) / 10}k` : String(Math.round(n * 100) / 100);
}

/** Colour keys for a chart's series. */
export function legend(series) {
  const box = document.createElement('div');
  box.className = 'legend';
  series.forEach((name, s) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = PALETTE[s % PALETTE.length];
    item.append(swatch, name);
    box.append(item);
  });
  return box;
}
