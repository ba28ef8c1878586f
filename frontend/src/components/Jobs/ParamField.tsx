import { rangeHint, type Choice, type FieldSpec, type FormValue } from "../../jobs/schemaForm";
import styles from "./LaunchJob.module.css";

interface ParamFieldProps {
  field: FieldSpec;
  value: FormValue;
  onChange: (value: FormValue) => void;
  error: string | null;
  /** Options for model and snapshot fields. */
  choices?: Choice[];
}

export const paramInputId = (name: string) => `param-${name}`;

/** One job parameter as a labelled control, with its description and range as help and the server's complaint below. */
export function ParamField({ field: f, value, onChange, error, choices = [] }: ParamFieldProps) {
  const id = paramInputId(f.name);
  const helpText = [f.description, rangeHint(f)].filter(Boolean).join(" · ");
  const helpId = helpText ? `${id}-help` : null;
  const errorId = error ? `${id}-error` : null;
  const describedBy = [helpId, errorId].filter(Boolean).join(" ") || undefined;
  const text = typeof value === "string" ? value : "";
  const common = {
    id,
    name: f.name,
    "aria-describedby": describedBy,
    "aria-invalid": error ? true : undefined,
    "aria-required": f.required || undefined,
  } as const;
  const help = helpText ? (
    <p className="help" id={helpId ?? undefined}>
      {helpText}
    </p>
  ) : null;
  const problem = error ? (
    <p className={`error-text small ${styles.fieldError}`} id={errorId ?? undefined}>
      {error}
    </p>
  ) : null;

  if (f.kind === "boolean") {
    return (
      <div className={`field ${styles.checkField}`} data-param={f.name}>
        <label className="checkbox">
          <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {f.label}
        </label>
        {help}
        {problem}
      </div>
    );
  }

  let control;
  if (f.kind === "enum" || f.kind === "model" || f.kind === "snapshot") {
    const options: Choice[] = f.kind === "enum" ? (f.options ?? []).map((o) => ({ value: o, label: o })) : [...choices];
    // A preset id that is not (or no longer) among the choices still shows as itself.
    if (text && !options.some((o) => o.value === text)) options.unshift({ value: text, label: `#${text} (not ready)` });
    control = (
      <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
        {f.nullable ? <option value="">None</option> : text === "" ? <option value="">Choose…</option> : null}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else if (f.kind === "integer" || f.kind === "number") {
    control = (
      <input
        {...common}
        type="number"
        inputMode={f.kind === "integer" ? "numeric" : "decimal"}
        min={f.minimum ?? f.exclusiveMinimum}
        max={f.maximum ?? f.exclusiveMaximum}
        step={f.kind === "integer" ? 1 : "any"}
        placeholder={f.nullable ? "none" : undefined}
        value={text}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        maxLength={f.maxLength}
        placeholder={f.nullable ? "none" : undefined}
        spellCheck={false}
        value={text}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }

  const emptyChoices = (f.kind === "model" || f.kind === "snapshot") && choices.length === 0;
  return (
    <div className="field" data-param={f.name}>
      <label htmlFor={id}>{f.label}</label>
      {control}
      {emptyChoices ? (
        <p className="help">{f.kind === "model" ? "No ready model of this kind yet." : "No ready snapshot in this project yet."}</p>
      ) : null}
      {help}
      {problem}
    </div>
  );
}
