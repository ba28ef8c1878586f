import { useEffect, useMemo, useState, type FormEvent } from "react";
import { errorMessage } from "../../client/errors";
import type { JobKindInfo, ModelVersion, Snapshot } from "../../client/types";
import {
  buildParams,
  defaultValues,
  fieldErrorFromApi,
  fieldsFromSchema,
  modelChoices,
  snapshotChoices,
  splitFields,
  type FieldSpec,
  type FormValue,
  type FormValues,
} from "../../jobs/schemaForm";
import styles from "./LaunchJob.module.css";
import { paramInputId, ParamField } from "./ParamField";

interface LaunchJobFormProps {
  kind: JobKindInfo;
  models: ModelVersion[];
  snapshots: Snapshot[];
  /** Values to start from instead of the defaults (e.g. ?snapshot_id=3 from a snapshot's link). */
  preset?: Record<string, string>;
  submitLabel: string;
  onLaunch: (params: Record<string, unknown>) => Promise<void>;
}

/** A job's parameters, one control per field of the kind's schema; the server's refusal shows at the field it names. */
export function LaunchJobForm({ kind, models, snapshots, preset, submitLabel, onLaunch }: LaunchJobFormProps) {
  const fields = useMemo(() => fieldsFromSchema(kind.params_schema), [kind.params_schema]);
  const { main, advanced } = useMemo(() => splitFields(fields), [fields]);
  const [values, setValues] = useState<FormValues>(() => defaultValues(fields, preset));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  // The field to focus once the render that marks it (and opens "Advanced") is done; a new object each time.
  const [focusTarget, setFocusTarget] = useState<{ name: string } | null>(null);
  useEffect(() => {
    if (focusTarget) document.getElementById(paramInputId(focusTarget.name))?.focus();
  }, [focusTarget]);

  const change = (name: string, value: FormValue) => {
    setValues((old) => ({ ...old, [name]: value }));
    setErrors((old) => {
      if (!(name in old)) return old;
      const { [name]: _gone, ...rest } = old;
      return rest;
    });
  };
  const showErrors = (found: Record<string, string>) => {
    setErrors(found);
    const first = fields.find((f) => f.name in found);
    if (!first) return;
    if (first.advanced) setAdvancedOpen(true);
    setFocusTarget({ name: first.name });
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const built = buildParams(fields, values);
    if (!built.ok) {
      setProblem(null);
      showErrors(built.errors);
      return;
    }
    setErrors({});
    setProblem(null);
    setBusy(true);
    try {
      await onLaunch(built.params);
    } catch (err) {
      const named = fieldErrorFromApi(err, fields);
      if (named) showErrors({ [named.field]: named.message });
      else setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const render = (f: FieldSpec) => (
    <ParamField
      key={f.name}
      field={f}
      value={values[f.name] ?? f.initial}
      onChange={(v) => change(f.name, v)}
      error={errors[f.name] ?? null}
      choices={f.kind === "model" ? modelChoices(models, f) : f.kind === "snapshot" ? snapshotChoices(snapshots) : undefined}
    />
  );
  const advancedErrors = advanced.filter((f) => f.name in errors).length;

  return (
    <form className={styles.form} onSubmit={onSubmit} aria-label={`${submitLabel}: parameters`} noValidate>
      <div className="live-region" aria-live="polite">
        {problem ? (
          <p role="alert" className="error-box">
            {problem}
          </p>
        ) : null}
      </div>
      <div className={styles.grid}>{main.map(render)}</div>
      {advanced.length ? (
        <details className={styles.advanced} open={advancedOpen} onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}>
          <summary>
            Advanced <span className="muted small">({advanced.length} settings)</span>
            {advancedErrors ? <span className="error-text small"> · {advancedErrors} to fix</span> : null}
          </summary>
          <div className={styles.grid}>{advanced.map(render)}</div>
        </details>
      ) : null}
      <div className={styles.actions}>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Launching…" : submitLabel}
        </button>
        {Object.keys(errors).length ? (
          <p className="error-text small" role="status">
            Fix the marked {Object.keys(errors).length === 1 ? "field" : "fields"} and launch again.
          </p>
        ) : null}
      </div>
    </form>
  );
}
