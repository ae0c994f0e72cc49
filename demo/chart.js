// The demo's chart as a hand-written SVG (no dependency): concurrent viewers (left axis) and
// cumulative watch time, watched and stored by the engine (right axis), over time.
'use strict'

const W = 960
const H = 460
const M = { left: 70, right: 80, top: 78, bottom: 56 }
const COLORS = { viewers: '#2563eb', remote: '#93c5fd', watched: '#f97316', stored: '#15803d', grid: '#e5e7eb', text: '#111827', muted: '#6b7280' }

/** Axis ticks at 1, 2 or 5 times a power of ten, covering [0, max]. */
function ticks(max, count = 5) {
  if (!(max > 0)) return { step: 1, top: 1, values: [0, 1] }
  const raw = max / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)
  const top = Number((Math.ceil(max / step - 1e-9) * step).toPrecision(12))
  const values = []
  for (let v = 0; v <= top + step / 2; v += step) values.push(Number(v.toPrecision(12)))
  return { step, top, values }
}

/** Watch time unit for the right axis. */
function timeUnit(maxSeconds) {
  if (maxSeconds >= 2 * 3600) return { name: 'hours', div: 3600 }
  if (maxSeconds >= 120) return { name: 'minutes', div: 60 }
  return { name: 'seconds', div: 1 }
}

const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

function polyline(points, color, { dash, width = 2.2 } = {}) {
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${d}"/>`
}

/**
 * samples: [{ t, viewers, remoteViewers, watched, stored }] (t in seconds, watch times in
 * seconds); marks: [{ t, label }] vertical markers; title, subtitle: text.
 */
function renderChart({ samples, marks = [], title, subtitle }) {
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const tMax = Math.max(1, ...samples.map((s) => s.t))
  const xt = ticks(Math.max(1, tMax - 0.5), 8) // a last sample at 40.02 s keeps a 40 s axis
  const vt = ticks(Math.max(1, ...samples.map((s) => s.viewers)))
  const unit = timeUnit(Math.max(...samples.map((s) => Math.max(s.watched, s.stored)), 1))
  const wt = ticks(Math.max(...samples.map((s) => Math.max(s.watched, s.stored) / unit.div), 1e-9))
  const x = (t) => M.left + (Math.min(t, xt.top) / xt.top) * pw
  const yv = (v) => M.top + ph - (v / vt.top) * ph
  const yw = (seconds) => M.top + ph - (seconds / unit.div / wt.top) * ph

  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`)
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`)
  out.push(`<text x="${M.left}" y="26" font-size="17" font-weight="bold" fill="${COLORS.text}">${esc(title)}</text>`)
  if (subtitle) out.push(`<text x="${M.left}" y="46" fill="${COLORS.muted}">${esc(subtitle)}</text>`)

  // Grid and axes.
  for (const v of vt.values) {
    out.push(`<line x1="${M.left}" y1="${yv(v).toFixed(1)}" x2="${M.left + pw}" y2="${yv(v).toFixed(1)}" stroke="${COLORS.grid}"/>`)
    out.push(`<text x="${M.left - 8}" y="${(yv(v) + 4).toFixed(1)}" text-anchor="end" fill="${COLORS.viewers}">${fmt(v)}</text>`)
  }
  for (const w of wt.values) {
    const y = M.top + ph - (w / wt.top) * ph
    out.push(`<text x="${M.left + pw + 8}" y="${(y + 4).toFixed(1)}" fill="${COLORS.watched}">${fmt(w)}</text>`)
  }
  for (const t of xt.values) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${M.top + ph}" x2="${x(t).toFixed(1)}" y2="${M.top + ph + 5}" stroke="${COLORS.muted}"/>`)
    out.push(`<text x="${x(t).toFixed(1)}" y="${M.top + ph + 20}" text-anchor="middle" fill="${COLORS.text}">${fmt(t)}</text>`)
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="${COLORS.muted}"/>`)
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle" fill="${COLORS.text}">time (s)</text>`)
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="${COLORS.viewers}">concurrent viewers</text>`)
  out.push(`<text transform="translate(${W - 16} ${M.top + ph / 2}) rotate(90)" text-anchor="middle" fill="${COLORS.watched}">cumulative watch time (${unit.name})</text>`)

  // Markers.
  for (const mark of marks) {
    if (mark.t > xt.top) continue
    out.push(`<line x1="${x(mark.t).toFixed(1)}" y1="${M.top}" x2="${x(mark.t).toFixed(1)}" y2="${M.top + ph}" stroke="${COLORS.muted}" stroke-dasharray="4 4"/>`)
    out.push(`<text x="${(x(mark.t) + 5).toFixed(1)}" y="${M.top + 14}" fill="${COLORS.muted}">${esc(mark.label)}</text>`)
  }

  // Series: viewers as a filled area with remote viewers as a lighter band, then watch time.
  if (samples.length > 0) {
    const area = (key) =>
      `${samples.map((s) => `${x(s.t).toFixed(1)},${yv(key(s)).toFixed(1)}`).join(' ')} ${x(samples[samples.length - 1].t).toFixed(1)},${yv(0)} ${x(samples[0].t).toFixed(1)},${yv(0)}`
    out.push(`<polygon fill="${COLORS.viewers}" fill-opacity="0.12" points="${area((s) => s.viewers)}"/>`)
    out.push(`<polygon fill="${COLORS.remote}" fill-opacity="0.55" points="${area((s) => s.remoteViewers)}"/>`)
    out.push(polyline(samples.map((s) => [x(s.t), yv(s.viewers)]), COLORS.viewers, { width: 2.6 }))
    out.push(polyline(samples.map((s) => [x(s.t), yw(s.watched)]), COLORS.watched))
    out.push(polyline(samples.map((s) => [x(s.t), yw(s.stored)]), COLORS.stored, { dash: '7 4' }))
  }

  // Legend.
  const legend = [
    ['line', COLORS.viewers, 'concurrent viewers (getTotalViewersOf)'],
    ['area', COLORS.remote, 'of which remote'],
    ['line', COLORS.watched, 'watch time watched'],
    ['dash', COLORS.stored, 'watch time stored (saveViewerStats)'],
  ]
  let lx = M.left
  const ly = M.top - 14
  for (const [kind, color, label] of legend) {
    if (kind === 'area') out.push(`<rect x="${lx}" y="${ly - 6}" width="22" height="10" fill="${color}" fill-opacity="0.55"/>`)
    else out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2.6"${kind === 'dash' ? ' stroke-dasharray="7 4"' : ''}/>`)
    out.push(`<text x="${lx + 28}" y="${ly + 4}" fill="${COLORS.text}">${esc(label)}</text>`)
    lx += 28 + label.length * 6.6 + 22
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

module.exports = { renderChart, ticks, timeUnit }
