/**
 * Tiny SVG charts: enough for usage by day, agent and action without a charting library. Each
 * chart has a text alternative (a table a screen reader reads) beside the picture.
 */
export interface Bar {
  readonly label: string;
  readonly value: number;
}

export function ColumnChart({ title, bars, unit }: { title: string; bars: readonly Bar[]; unit: string }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const width = 600;
  const height = 160;
  // Columns at most 48 units wide, so one day does not fill the chart.
  const step = Math.min(48, width / Math.max(1, bars.length));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={`${title}: a column a day`}>
        {bars.map((bar, i) => {
          const h = (bar.value / max) * height;
          return (
            <g key={bar.label}>
              <rect x={i * step + step * 0.15} y={height - h} width={step * 0.7} height={h} class="bar">
                <title>
                  {bar.label}: {bar.value} {unit}
                </title>
              </rect>
              {bars.length <= 14 || i % Math.ceil(bars.length / 7) === 0 ? (
                <text x={i * step + step / 2} y={height + 15} text-anchor="middle" class="axis">
                  {bar.label.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <DataTable title={title} bars={bars} unit={unit} />
    </figure>
  );
}

export function BarList({ title, bars, unit }: { title: string; bars: readonly Bar[]; unit: string }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <ul class="bar-list">
        {bars.map((bar, i) => (
          <li key={i}>
            <span class="bar-label">{bar.label}</span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar-fill" style={{ width: `${(bar.value / max) * 100}%` }} />
            </span>
            <span class="bar-value">
              {bar.value} {unit}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

function DataTable({ title, bars, unit }: { title: string; bars: readonly Bar[]; unit: string }) {
  return (
    <table class="visually-hidden">
      <caption>{title}</caption>
      <tbody>
        {bars.map((bar) => (
          <tr key={bar.label}>
            <th scope="row">{bar.label}</th>
            <td>
              {bar.value} {unit}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
