/**
 * A hand-written SVG chart of hit ratio against cache size: one panel per trace or workload, one
 * line per policy, the sizes on a log scale. No dependency; the file is deterministic for the
 * same figures (so that it diffs well when committed).
 */

export interface Series {
  readonly name: string
  /** Hit ratio in percent per size (`undefined` where not measured). */
  readonly values: ReadonlyArray<number | undefined>
}

export interface Panel {
  readonly title: string
  /** A smaller second line under the title. */
  readonly subtitle?: string
  readonly sizes: ReadonlyArray<number>
  readonly series: ReadonlyArray<Series>
}

/** A fixed style per policy, so that a policy has the same colour in every panel. */
export interface Style {
  readonly color: string
  readonly dash?: string
  readonly width?: number
}

const PANEL_WIDTH = 460
const PANEL_HEIGHT = 270
const MARGIN = { left: 46, right: 14, top: 40, bottom: 34 }
const COLUMNS = 2
const LEGEND_HEIGHT = 56

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const round = (x: number): string => (Math.round(x * 10) / 10).toString()

/** A size as a short label: 500, 2k, 37.4k, 1M. */
const sizeLabel = (size: number): string =>
  size >= 1_000_000
    ? `${round(size / 1_000_000)}M`
    : size >= 1_000
    ? `${Number((size / 1_000).toPrecision(3))}k`
    : `${size}`

/** The SVG document: a legend on top, then the panels in rows of two. */
export const hitRatioChart = (
  title: string,
  panels: ReadonlyArray<Panel>,
  styles: Readonly<Record<string, Style>>
): string => {
  const rows = Math.ceil(panels.length / COLUMNS)
  const width = COLUMNS * PANEL_WIDTH
  const height = LEGEND_HEIGHT + rows * PANEL_HEIGHT
  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
      `font-family="system-ui, sans-serif" font-size="11">`
  )
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escape(title)}</text>`
  )
  // The legend: every policy that appears in some panel, in the order of `styles`.
  const names = Object.keys(styles).filter((name) => panels.some((p) => p.series.some((s) => s.name === name)))
  // Each entry as wide as its text (about 6.2 px a character at 11 px) plus the line and a gap.
  const entryWidths = names.map((name) => 22 + 5 + name.length * 6.2 + 18)
  let x = (width - entryWidths.reduce((a, b) => a + b, 0)) / 2
  names.forEach((name, i) => {
    const style = styles[name]!
    out.push(
      `<line x1="${round(x)}" y1="38" x2="${round(x + 22)}" y2="38" stroke="${style.color}" ` +
        `stroke-width="${style.width ?? 2}"${style.dash === undefined ? "" : ` stroke-dasharray="${style.dash}"`}/>`
    )
    out.push(`<text x="${round(x + 27)}" y="42">${escape(name)}</text>`)
    x += entryWidths[i]!
  })
  panels.forEach((panel, index) => {
    const x0 = (index % COLUMNS) * PANEL_WIDTH
    const y0 = LEGEND_HEIGHT + Math.floor(index / COLUMNS) * PANEL_HEIGHT
    out.push(drawPanel(panel, x0, y0, styles))
  })
  out.push("</svg>")
  return out.join("\n") + "\n"
}

const drawPanel = (panel: Panel, x0: number, y0: number, styles: Readonly<Record<string, Style>>): string => {
  const out: Array<string> = []
  const left = x0 + MARGIN.left
  const right = x0 + PANEL_WIDTH - MARGIN.right
  const top = y0 + MARGIN.top
  const bottom = y0 + PANEL_HEIGHT - MARGIN.bottom
  const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined))
  const yMax = Math.max(10, Math.ceil(Math.max(...values, 0) / 10) * 10)
  const logMin = Math.log(panel.sizes[0]!)
  const logMax = Math.log(panel.sizes[panel.sizes.length - 1]!)
  const x = (size: number) =>
    logMax === logMin ? (left + right) / 2 : left + ((Math.log(size) - logMin) / (logMax - logMin)) * (right - left)
  const y = (ratio: number) => bottom - (ratio / yMax) * (bottom - top)
  out.push(`<g>`)
  out.push(
    `<text x="${round((left + right) / 2)}" y="${y0 + 16}" text-anchor="middle" font-weight="600">${
      escape(panel.title)
    }</text>`
  )
  if (panel.subtitle !== undefined) {
    out.push(
      `<text x="${round((left + right) / 2)}" y="${y0 + 29}" text-anchor="middle" font-size="9.5" fill="#555">${
        escape(panel.subtitle)
      }</text>`
    )
  }
  // Grid and axes: a line every 10 points (every 20 above 60), a tick per measured size.
  const yStep = yMax > 60 ? 20 : 10
  for (let ratio = 0; ratio <= yMax; ratio += yStep) {
    out.push(`<line x1="${left}" y1="${round(y(ratio))}" x2="${right}" y2="${round(y(ratio))}" stroke="#e4e4e4"/>`)
    out.push(`<text x="${left - 5}" y="${round(y(ratio) + 4)}" text-anchor="end" fill="#555">${ratio}</text>`)
  }
  for (const size of panel.sizes) {
    out.push(`<line x1="${round(x(size))}" y1="${bottom}" x2="${round(x(size))}" y2="${bottom + 4}" stroke="#555"/>`)
    out.push(
      `<text x="${round(x(size))}" y="${bottom + 15}" text-anchor="middle" fill="#555">${sizeLabel(size)}</text>`
    )
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#555"/>`)
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#555"/>`)
  out.push(
    `<text x="${round((left + right) / 2)}" y="${
      bottom + 29
    }" text-anchor="middle" fill="#555">cache size (entries, log scale)</text>`
  )
  out.push(
    `<text transform="translate(${x0 + 12} ${
      round((top + bottom) / 2)
    }) rotate(-90)" text-anchor="middle" fill="#555">hit ratio %</text>`
  )
  for (const series of panel.series) {
    const style = styles[series.name] ?? { color: "#000" }
    const points = panel.sizes
      .map((size, i) => [size, series.values[i]] as const)
      .filter((point): point is readonly [number, number] => point[1] !== undefined)
      .map(([size, ratio]) => `${round(x(size))},${round(y(ratio))}`)
    if (points.length === 0) continue
    out.push(
      `<polyline fill="none" stroke="${style.color}" stroke-width="${style.width ?? 2}"` +
        `${style.dash === undefined ? "" : ` stroke-dasharray="${style.dash}"`} points="${points.join(" ")}">` +
        `<title>${escape(series.name)}</title></polyline>`
    )
    for (const point of points) {
      const [cx, cy] = point.split(",")
      out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${style.color}"/>`)
    }
  }
  out.push(`</g>`)
  return out.join("\n")
}
