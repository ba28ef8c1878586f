import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { TimelinePoint } from "../../client/types";
import styles from "./Quality.module.css";

const TOOLTIP_STYLE = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, color: "var(--text)" };

/** Mean item agreement per day (line, left axis) with the labels made that day (bars, right axis). */
export function AgreementTimeline({ points }: { points: TimelinePoint[] }) {
  const data = points.map((p) => ({ day: p.day, labels: p.labels, agreement: p.mean_agreement }));
  return (
    <figure className={styles.chart} aria-labelledby="timeline-title">
      <h3 id="timeline-title">Agreement over time</h3>
      {data.length === 0 ? (
        <p className="muted">No labels yet.</p>
      ) : (
        <div className={styles.chartBox}>
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={data} margin={{ top: 8, right: 0, bottom: 4, left: -12 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
              <XAxis dataKey="day" tick={{ fill: "var(--text-muted)", fontSize: 11 }} tickLine={false} axisLine={{ stroke: "var(--border)" }} />
              <YAxis yAxisId="agreement" domain={[0, 1]} tick={{ fill: "var(--text-muted)", fontSize: 12 }} tickLine={false} axisLine={false} />
              <YAxis yAxisId="labels" orientation="right" allowDecimals={false} tick={{ fill: "var(--text-muted)", fontSize: 12 }} tickLine={false} axisLine={false} />
              <Tooltip contentStyle={TOOLTIP_STYLE} cursor={{ fill: "var(--surface-2)" }} />
              <Legend wrapperStyle={{ fontSize: 13 }} />
              <Bar yAxisId="labels" dataKey="labels" name="Labels" fill="var(--chart-2)" opacity={0.55} maxBarSize={48} radius={[3, 3, 0, 0]} isAnimationActive={false} />
              <Line yAxisId="agreement" dataKey="agreement" name="Mean agreement" stroke="var(--chart-1)" strokeWidth={2} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
      <figcaption className="visually-hidden">
        Per day: {points.map((p) => `${p.day}: ${p.labels} labels, agreement ${p.mean_agreement ?? "n/a"}`).join("; ")}.
      </figcaption>
    </figure>
  );
}
