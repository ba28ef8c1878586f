import { CartesianGrid, ErrorBar, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";
import type { LeaderboardEntry } from "../../client/types";
import { formatRating, ratingPoints } from "../../models/metrics";
import styles from "./Models.module.css";

const TOOLTIP_STYLE = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, color: "var(--text)" };

/** Each version's rating with its 95% interval as an error bar; 1000 is the average. */
export function LeaderboardChart({ entries }: { entries: LeaderboardEntry[] }) {
  const points = ratingPoints(entries);
  return (
    <figure className={styles.chart} aria-labelledby="rating-chart-title">
      <h3 id="rating-chart-title">Ratings with 95% intervals</h3>
      <div className={styles.chartBox}>
        <ResponsiveContainer width="100%" height="100%">
          <ScatterChart margin={{ top: 8, right: 12, bottom: 4, left: -8 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
            <XAxis
              dataKey="label"
              type="category"
              allowDuplicatedCategory={false}
              tick={{ fill: "var(--text-muted)", fontSize: 11 }}
              tickLine={false}
              axisLine={{ stroke: "var(--border)" }}
              interval={0}
            />
            <YAxis
              dataKey="rating"
              type="number"
              domain={[(min: number) => Math.floor((min - 40) / 50) * 50, (max: number) => Math.ceil((max + 40) / 50) * 50]}
              tick={{ fill: "var(--text-muted)", fontSize: 11 }}
              tickLine={false}
              axisLine={false}
            />
            <ReferenceLine y={1000} stroke="var(--border-strong)" strokeDasharray="4 4" />
            <Tooltip contentStyle={TOOLTIP_STYLE} cursor={false} />
            <Scatter data={points} name="Rating" fill="var(--chart-1)" isAnimationActive={false}>
              <ErrorBar dataKey="interval" direction="y" width={8} stroke="var(--chart-1)" strokeWidth={1.5} />
            </Scatter>
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="visually-hidden">
        {entries.map((e) => `${e.name}: ${formatRating(e)}`).join("; ")}.
      </figcaption>
    </figure>
  );
}
