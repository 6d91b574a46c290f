/**
 * Events per bucket as stacked SVG bars, one colour per type group, with a legend of totals and the same numbers
 * as a table for screen readers and for reading exact values. No chart library: a few rectangles.
 */
import { useState } from "preact/hooks";
import type { EventStats } from "../api/types";
import { GROUP_LABELS, GROUP_ORDER, groupOf, type GroupId } from "../pages/event-groups";
import { count } from "./format";

const WIDTH = 720;
const HEIGHT = 180;

function stacks(stats: EventStats) {
  return stats.buckets.map((b) => {
    const byGroup = new Map<GroupId, number>();
    for (const c of b.counts) byGroup.set(groupOf(c.eventType), (byGroup.get(groupOf(c.eventType)) ?? 0) + c.count);
    return { start: b.start, total: b.total, byGroup };
  });
}

export function EventsChart({ stats, bucketLabel }: { stats: EventStats; bucketLabel: (iso: string) => string }) {
  const [asTable, setAsTable] = useState(false);
  const bars = stacks(stats);
  const max = Math.max(1, ...bars.map((b) => b.total));
  const totals = new Map<GroupId, number>();
  for (const b of bars) for (const [g, n] of b.byGroup) totals.set(g, (totals.get(g) ?? 0) + n);
  const groups = GROUP_ORDER.filter((g) => (totals.get(g) ?? 0) > 0);
  const barWidth = WIDTH / Math.max(1, bars.length);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${count(stats.total)} events, ${bars.length} ${stats.bucket}s, by type group`} preserveAspectRatio="none">
        {bars.map((b, i) => {
          let y = HEIGHT;
          return (
            <g key={b.start}>
              <title>{`${bucketLabel(b.start)}: ${count(b.total)} events`}</title>
              {GROUP_ORDER.map((g) => {
                const n = b.byGroup.get(g) ?? 0;
                if (n === 0) return null;
                const h = (n / max) * (HEIGHT - 4);
                y -= h;
                return <rect key={g} class={`group-${g}`} x={i * barWidth + 1} y={y} width={Math.max(1, barWidth - 2)} height={h} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {groups.length === 0 ? <li>No events in this range.</li> : null}
          {groups.map((g) => (
            <li key={g}>
              <span class={`swatch group-${g}`} aria-hidden="true" /> {GROUP_LABELS[g]}: {count(totals.get(g) ?? 0)}
            </li>
          ))}
        </ul>
        <button type="button" class="link" aria-expanded={asTable} onClick={() => setAsTable(!asTable)}>
          {asTable ? "Hide the numbers" : "Show the numbers"}
        </button>
      </figcaption>
      {asTable ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`Events per ${stats.bucket}, scrollable`}>
          <table>
            <caption>Events per {stats.bucket}</caption>
            <thead>
              <tr>
                <th scope="col">{stats.bucket === "hour" ? "Hour" : "Day"}</th>
                <th scope="col">Total</th>
                {groups.map((g) => (
                  <th scope="col" key={g}>
                    {GROUP_LABELS[g]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {bars.map((b) => (
                <tr key={b.start}>
                  <th scope="row">{bucketLabel(b.start)}</th>
                  <td>{count(b.total)}</td>
                  {groups.map((g) => (
                    <td key={g}>{count(b.byGroup.get(g) ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </figure>
  );
}
