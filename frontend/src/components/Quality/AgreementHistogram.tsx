import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { histogramRows } from "../../quality/format";
import styles from "./Quality.module.css";

const TOOLTIP_STYLE = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, color: "var(--text)" };

/** How many items fall in each tenth of agreement (0 = all disagree, 1 = all agree). */
export function AgreementHistogram({ counts }: { counts: number[] }) {
  const data = histogramRows(counts);
  return (
    <figure className={styles.chart} aria-labelledby="histogram-title">
      <h3 id="histogram-title">Items by agreement</h3>
      <div className={styles.chartBox}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 4, left: -12 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
            <XAxis dataKey="bucket" tick={{ fill: "var(--text-muted)", fontSize: 11 }} tickLine={false} axisLine={{ stroke: "var(--border)" }} interval={0} angle={-30} textAnchor="end" height={44} />
            <YAxis allowDecimals={false} tick={{ fill: "var(--text-muted)", fontSize: 12 }} tickLine={false} axisLine={false} />
            <Tooltip cursor={{ fill: "var(--surface-2)" }} contentStyle={TOOLTIP_STYLE} />
            <Bar dataKey="items" name="Items" fill="var(--chart-1)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="visually-hidden">
        Items with two or more labels per agreement range:{" "}
        {data.map((d) => `${d.bucket}: ${d.items}`).join("; ")}.
      </figcaption>
    </figure>
  );
}
