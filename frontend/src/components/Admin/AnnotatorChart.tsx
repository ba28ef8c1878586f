import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { AnnotatorProgress } from "../../client/types";
import styles from "./Admin.module.css";

/** Labels per annotator (all time and today) as a bar chart; the table next to it has the numbers. */
export function AnnotatorChart({ rows }: { rows: AnnotatorProgress[] }) {
  const data = rows.map((r) => ({ name: r.username, total: r.labels, today: r.labels_today }));
  return (
    <figure className={styles.chart} aria-label="Labels per annotator chart">
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 4, left: -12 }} maxBarSize={44}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
          <XAxis dataKey="name" tick={{ fill: "var(--text-muted)", fontSize: 12 }} tickLine={false} axisLine={{ stroke: "var(--border)" }} />
          <YAxis allowDecimals={false} tick={{ fill: "var(--text-muted)", fontSize: 12 }} tickLine={false} axisLine={false} />
          <Tooltip
            cursor={{ fill: "var(--surface-2)" }}
            contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, color: "var(--text)" }}
          />
          <Legend wrapperStyle={{ fontSize: 13 }} />
          <Bar dataKey="total" name="All labels" fill="var(--chart-1)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
          <Bar dataKey="today" name="Today" fill="var(--chart-2)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="visually-hidden">Labels per annotator, all time and today. The same numbers are in the table.</figcaption>
    </figure>
  );
}
