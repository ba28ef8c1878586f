// A job's parameter form, generated from the JSON Schema the API publishes for its kind
// (GET /api/jobs/kinds → params_schema, Pydantic's model_json_schema()). Pure functions only:
// the components render what these describe and send what buildParams makes.
import { ApiError } from "../client/errors";
import type { ModelKind, ModelVersion, Snapshot } from "../client/types";

/** The part of JSON Schema that Pydantic writes for flat parameter models. */
export interface JsonSchema {
  type?: string;
  enum?: (string | number)[];
  $ref?: string;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  pattern?: string;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  $defs?: Record<string, JsonSchema>;
}

/** How a field is edited. "model" and "snapshot" are ids chosen from lists; "json" is the fallback for shapes we do not know. */
export type FieldKind = "integer" | "number" | "boolean" | "string" | "enum" | "model" | "snapshot" | "json";

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** null is allowed (anyOf [X, null]): an empty control sends null. */
  nullable: boolean;
  /** The form value an untouched control starts with. */
  initial: FormValue;
  description: string | null;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  /** For enums: the values as text, and whether they are numbers to send as numbers. */
  options?: string[];
  numericOptions?: boolean;
  /** For "model": which kinds of model version fit. */
  modelKinds?: ModelKind[];
  /** Rarely changed: shown under a collapsed "Advanced". */
  advanced: boolean;
}

/** Text for inputs and selects ("" = empty), true/false for checkboxes. */
export type FormValue = string | boolean;
export type FormValues = Record<string, FormValue>;

export type BuiltParams = { ok: true; params: Record<string, unknown> } | { ok: false; errors: Record<string, string> };

// --- Reading the schema -------------------------------------------------------------------------

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function num(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
}

function str(x: unknown): string | undefined {
  return typeof x === "string" ? x : undefined;
}

function schemaList(x: unknown): JsonSchema[] | undefined {
  return Array.isArray(x) ? x.map(toSchema) : undefined;
}

function schemaMap(x: unknown): Record<string, JsonSchema> | undefined {
  if (!isRecord(x)) return undefined;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toSchema(v)]));
}

/** An untyped schema object (as the API sends it) as a JsonSchema, keeping only what we understand. */
export function toSchema(raw: unknown): JsonSchema {
  if (!isRecord(raw)) return {};
  const out: JsonSchema = {};
  const set = <K extends keyof JsonSchema>(key: K, value: JsonSchema[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set("type", str(raw.type));
  set(
    "enum",
    Array.isArray(raw.enum) ? raw.enum.filter((v): v is string | number => typeof v === "string" || typeof v === "number") : undefined,
  );
  set("$ref", str(raw.$ref));
  set("allOf", schemaList(raw.allOf));
  set("anyOf", schemaList(raw.anyOf));
  set("oneOf", schemaList(raw.oneOf));
  if ("default" in raw) out.default = raw.default;
  set("minimum", num(raw.minimum));
  set("maximum", num(raw.maximum));
  set("exclusiveMinimum", num(raw.exclusiveMinimum));
  set("exclusiveMaximum", num(raw.exclusiveMaximum));
  set("maxLength", num(raw.maxLength));
  set("pattern", str(raw.pattern));
  set("title", str(raw.title));
  set("description", str(raw.description));
  set("properties", schemaMap(raw.properties));
  set("required", Array.isArray(raw.required) ? raw.required.filter((r): r is string => typeof r === "string") : undefined);
  set("$defs", schemaMap(raw.$defs));
  return out;
}

/** Follow a local $ref and fold single-member allOf into one schema; the outer keys (default, description) win. */
function resolve(schema: JsonSchema, defs: Record<string, JsonSchema>, depth = 0): JsonSchema {
  if (depth > 8) return schema;
  const { $ref, allOf, ...rest } = schema;
  let merged: JsonSchema = rest;
  if ($ref) {
    const name = $ref.startsWith("#/$defs/") ? $ref.slice("#/$defs/".length) : null;
    const target = name ? defs[name] : undefined;
    if (target) merged = { ...resolve(target, defs, depth + 1), ...rest };
  }
  for (const part of allOf ?? []) merged = { ...resolve(part, defs, depth + 1), ...merged };
  return merged;
}

/** The field's own schema with `anyOf [X, null]` unwrapped into X plus nullable. */
function unwrapNullable(schema: JsonSchema, defs: Record<string, JsonSchema>): { base: JsonSchema; nullable: boolean } {
  const resolved = resolve(schema, defs);
  const variants = resolved.anyOf ?? resolved.oneOf;
  if (!variants) return { base: resolved, nullable: resolved.type === "null" };
  const { anyOf: _a, oneOf: _o, ...outer } = resolved;
  const options = variants.map((v) => resolve(v, defs));
  const nonNull = options.filter((v) => v.type !== "null");
  const nullable = nonNull.length < options.length;
  // One real type: edit it. Several (rare): edit as JSON.
  const base: JsonSchema = nonNull.length === 1 ? { ...nonNull[0], ...outer } : { ...outer, type: "json" };
  return { base, nullable };
}

// --- Labels and grouping ------------------------------------------------------------------------

const LABELS: Record<string, string> = {
  k: "Candidates per prompt (K)",
  top_p: "Top-p",
  name: "Version name",
  lora: "Train LoRA adapters",
  lora_r: "LoRA rank (r)",
  lora_alpha: "LoRA alpha",
  lora_dropout: "LoRA dropout",
  kl_coef: "KL coefficient",
  adaptive_kl: "Adaptive KL coefficient",
  target_kl: "Target KL",
  vf_coef: "Value loss coefficient",
  clip_range_value: "Value clip range",
  gamma: "Discount (gamma)",
  lam: "GAE lambda",
  ppo_epochs: "PPO epochs per batch",
  human_eval: "Open a blind human evaluation round",
  human_overlap: "Human judgements per item",
  prompts: "Prompts",
  split: "Prompt split",
  limit: "At most this many prompts",
};

const WORDS: Record<string, string> = { kl: "KL", lora: "LoRA", ppo: "PPO", dpo: "DPO", id: "ID" };

/** A readable label for a parameter name: "learning_rate" → "Learning rate", "reward_model_version_id" → "Reward model". */
export function fieldLabel(name: string): string {
  const known = LABELS[name];
  if (known) return known;
  if (name.endsWith("model_version_id")) {
    const role = name.slice(0, -"model_version_id".length).replace(/_$/, "");
    return role ? `${sentence(role)} model` : "Model";
  }
  if (name === "snapshot_id") return "Snapshot";
  return sentence(name);
}

function sentence(snake: string): string {
  const words = snake.split("_").filter(Boolean).map((w) => WORDS[w] ?? w);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Fields most launches leave alone: LoRA, PPO internals, seeds and evaluation cadence. */
export const ADVANCED_FIELDS = new Set([
  "lora",
  "lora_r",
  "lora_alpha",
  "lora_dropout",
  "clip_range",
  "clip_range_value",
  "gamma",
  "lam",
  "vf_coef",
  "whiten_rewards",
  "adaptive_kl",
  "target_kl",
  "mini_batch_size",
  "ppo_epochs",
  "gradient_accumulation_steps",
  "eval_steps",
  "early_stopping_patience",
  "center_rewards_coefficient",
  "use_margin",
  "max_prompt_length",
  "seed",
]);

/** Which model versions fit a `…model_version_id` field: reward models for the reward model, causal LMs otherwise. */
export function modelKindsFor(name: string): ModelKind[] {
  return name.startsWith("reward_") ? ["reward"] : ["base", "policy"];
}

function fieldKind(name: string, base: JsonSchema): FieldKind {
  const integer = base.type === "integer";
  if (integer && name.endsWith("model_version_id")) return "model";
  if (integer && name.endsWith("snapshot_id")) return "snapshot";
  if (base.enum && base.enum.length) return "enum";
  switch (base.type) {
    case "integer":
    case "number":
    case "boolean":
    case "string":
      return base.type;
    default:
      return "json";
  }
}

function initialValue(kind: FieldKind, value: unknown): FormValue {
  if (kind === "boolean") return value === true;
  if (value === undefined || value === null) return "";
  if (kind === "json") return JSON.stringify(value);
  return String(value);
}

/** One FieldSpec per property, ids to choose (models, snapshots) first, then in the schema's order. */
export function fieldsFromSchema(rawSchema: unknown): FieldSpec[] {
  const schema = toSchema(rawSchema);
  const defs = schema.$defs ?? {};
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, prop]): FieldSpec => {
    const { base, nullable } = unwrapNullable(prop, defs);
    const kind = fieldKind(name, base);
    const isRequired = required.has(name);
    const spec: FieldSpec = {
      name,
      label: fieldLabel(name),
      kind,
      required: isRequired,
      nullable,
      initial: initialValue(kind, base.default),
      description: base.description ?? null,
      advanced: !isRequired && ADVANCED_FIELDS.has(name),
    };
    if (base.minimum !== undefined) spec.minimum = base.minimum;
    if (base.maximum !== undefined) spec.maximum = base.maximum;
    if (base.exclusiveMinimum !== undefined) spec.exclusiveMinimum = base.exclusiveMinimum;
    if (base.exclusiveMaximum !== undefined) spec.exclusiveMaximum = base.exclusiveMaximum;
    if (base.maxLength !== undefined) spec.maxLength = base.maxLength;
    if (kind === "enum") {
      spec.options = (base.enum ?? []).map(String);
      if ((base.enum ?? []).every((v) => typeof v === "number")) spec.numericOptions = true;
    }
    if (kind === "model") spec.modelKinds = modelKindsFor(name);
    return spec;
  });
  const isRef = (f: FieldSpec) => f.kind === "model" || f.kind === "snapshot";
  return [...fields.filter(isRef), ...fields.filter((f) => !isRef(f))];
}

/** The main fields and the advanced ones, each in order. */
export function splitFields(fields: FieldSpec[]): { main: FieldSpec[]; advanced: FieldSpec[] } {
  return { main: fields.filter((f) => !f.advanced), advanced: fields.filter((f) => f.advanced) };
}

/** Bounds that are really "any id" or "any seed" are not worth saying. */
const HUGE = 2 ** 31 - 1;

/** The allowed range in words, e.g. "1 to 16", "above 0, at most 1", "0 or more"; null when unbounded. */
export function rangeHint(f: FieldSpec): string | null {
  if (f.kind !== "integer" && f.kind !== "number") return null;
  const fmt = (n: number) => (Math.abs(n) >= 10_000 ? n.toLocaleString("en-US") : String(n));
  const max = f.maximum !== undefined && f.maximum < HUGE ? f.maximum : undefined;
  const low = f.exclusiveMinimum !== undefined ? `above ${fmt(f.exclusiveMinimum)}` : f.minimum !== undefined ? fmt(f.minimum) : null;
  const high = f.exclusiveMaximum !== undefined ? `below ${fmt(f.exclusiveMaximum)}` : max !== undefined ? fmt(max) : null;
  const lowInclusive = f.exclusiveMinimum === undefined && f.minimum !== undefined;
  const highInclusive = f.exclusiveMaximum === undefined && max !== undefined;
  if (low && high) {
    if (lowInclusive && highInclusive) return `${low} to ${high}`;
    return `${lowInclusive ? `at least ${low}` : low}, ${highInclusive ? `at most ${high}` : high}`;
  }
  if (low) return lowInclusive ? `${low} or more` : low;
  if (high) return highInclusive ? `at most ${high}` : high;
  return null;
}

// --- Values -------------------------------------------------------------------------------------

/** The untouched form: every field's default, then `preset` (e.g. from the URL) where it names a field. */
export function defaultValues(fields: FieldSpec[], preset: Record<string, string> = {}): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const given = preset[f.name];
    if (given === undefined) values[f.name] = f.initial;
    else values[f.name] = f.kind === "boolean" ? given === "true" : given;
  }
  return values;
}

function missing(f: FieldSpec): string {
  if (f.kind === "model") return "Choose a model.";
  if (f.kind === "snapshot") return "Choose a snapshot.";
  if (f.kind === "enum") return "Choose one.";
  return "Required.";
}

/**
 * The `params` of POST /api/jobs, or a message per field to fix. Empty optional fields are left out
 * (the server's default applies), except nullable ones, which send null (so "none" can override a
 * non-null default). Ranges are the server's to check: it names the field it refuses.
 */
export function buildParams(fields: FieldSpec[], values: FormValues): BuiltParams {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[f.name] ?? f.initial;
    if (f.kind === "boolean") {
      params[f.name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (f.nullable) params[f.name] = null;
      else if (f.required) errors[f.name] = missing(f);
      continue;
    }
    switch (f.kind) {
      case "integer":
      case "model":
      case "snapshot": {
        const n = Number(text);
        if (!Number.isInteger(n)) errors[f.name] = "Must be a whole number.";
        else params[f.name] = n;
        break;
      }
      case "number": {
        const n = Number(text);
        if (!Number.isFinite(n)) errors[f.name] = "Must be a number.";
        else params[f.name] = n;
        break;
      }
      case "enum":
        if (f.options && !f.options.includes(text)) errors[f.name] = `Must be one of: ${f.options.join(", ")}.`;
        else params[f.name] = f.numericOptions ? Number(text) : text;
        break;
      case "json":
        try {
          params[f.name] = JSON.parse(text);
        } catch {
          errors[f.name] = "Must be valid JSON.";
        }
        break;
      default:
        params[f.name] = text;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, params };
}

/**
 * A server refusal that names one of the form's fields ("params.learning_rate") as that field and
 * the message without its "params.learning_rate: " prefix; null when it names none of them.
 */
export function fieldErrorFromApi(err: unknown, fields: FieldSpec[]): { field: string; message: string } | null {
  if (!(err instanceof ApiError) || !err.field?.startsWith("params.")) return null;
  const name = err.field.slice("params.".length).split(".")[0] ?? "";
  if (!fields.some((f) => f.name === name)) return null;
  const prefix = `${err.field}: `;
  const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return { field: name, message: message.charAt(0).toUpperCase() + message.slice(1) };
}

// --- Choices for id fields ----------------------------------------------------------------------

export interface Choice {
  value: string;
  label: string;
}

/** Ready model versions of the kinds the field takes, newest first. */
export function modelChoices(models: ModelVersion[], f: FieldSpec): Choice[] {
  const kinds = f.modelKinds ?? ["base", "policy", "reward"];
  return models
    .filter((m) => m.status === "ready" && kinds.includes(m.kind))
    .sort((a, b) => b.id - a.id)
    .map((m) => ({ value: String(m.id), label: `${m.name} (${m.kind}, #${m.id})` }));
}

/** The project's ready snapshots, newest first. */
export function snapshotChoices(snapshots: Snapshot[]): Choice[] {
  return snapshots
    .filter((s) => s.status === "ready")
    .sort((a, b) => b.id - a.id)
    .map((s) => ({ value: String(s.id), label: `${s.name} (#${s.id})` }));
}
