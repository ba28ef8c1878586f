import { describe, expect, it } from "vitest";
import { ApiError } from "../src/client/errors";
import type { JobKindInfo, ModelVersion, Snapshot } from "../src/client/types";
import { launchableKinds } from "../src/jobs/kinds";
import {
  buildParams,
  defaultValues,
  fieldErrorFromApi,
  fieldLabel,
  fieldsFromSchema,
  modelChoices,
  rangeHint,
  snapshotChoices,
  splitFields,
  type FieldSpec,
} from "../src/jobs/schemaForm";
import fixture from "./jobKinds.fixture.json";

// The real GET /api/jobs/kinds answer (app.jobs.router.job_kinds), saved as JSON.
const KINDS = fixture as JobKindInfo[];

function kind(name: string): JobKindInfo {
  const found = KINDS.find((k) => k.kind === name);
  if (!found) throw new Error(`no kind ${name} in the fixture`);
  return found;
}

function field(fields: FieldSpec[], name: string): FieldSpec {
  const found = fields.find((f) => f.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
}

function model(patch: Partial<ModelVersion>): ModelVersion {
  return {
    id: 1,
    name: "gpt2",
    kind: "base",
    status: "ready",
    source: "gpt2",
    parent_id: null,
    job_id: null,
    snapshot_id: null,
    metrics: {},
    info: {},
    error: null,
    created_at: "2026-01-01T00:00:00Z",
    ...patch,
  };
}

function snapshot(patch: Partial<Snapshot>): Snapshot {
  return {
    id: 1,
    project_id: 1,
    name: "round-1",
    status: "ready",
    spec: {},
    counts: {},
    job_id: null,
    content_hash: null,
    created_by: null,
    created_at: "2026-01-01T00:00:00Z",
    finished_at: null,
    ...patch,
  };
}

describe("fieldsFromSchema", () => {
  it("gives every field of every kind a control it knows", () => {
    for (const k of KINDS) {
      const fields = fieldsFromSchema(k.params_schema);
      const names = Object.keys((k.params_schema as { properties: object }).properties);
      expect(fields.map((f) => f.name).sort()).toEqual([...names].sort());
      expect(fields.filter((f) => f.kind === "json")).toEqual([]);
    }
  });

  it("reads types, defaults, bounds and descriptions of the reward model's params", () => {
    const fields = fieldsFromSchema(kind("reward_model").params_schema);
    // Ids to choose come first, then the schema's order.
    expect(fields.slice(0, 2).map((f) => [f.name, f.kind])).toEqual([
      ["snapshot_id", "snapshot"],
      ["base_model_version_id", "model"],
    ]);
    expect(field(fields, "base_model_version_id")).toMatchObject({
      label: "Base model",
      required: true,
      nullable: false,
      initial: "",
      modelKinds: ["base", "policy"],
      description: "The model the reward model starts from.",
      advanced: false,
    });
    expect(field(fields, "learning_rate")).toMatchObject({
      kind: "number",
      label: "Learning rate",
      initial: "0.00005",
      exclusiveMinimum: 0,
      maximum: 1,
      required: false,
      nullable: false,
    });
    expect(field(fields, "max_steps")).toMatchObject({ kind: "integer", initial: "-1", minimum: -1, description: "-1: run the epochs." });
    expect(field(fields, "use_margin")).toMatchObject({ kind: "boolean", initial: true, advanced: true });
    expect(field(fields, "lora")).toMatchObject({ kind: "boolean", initial: false, label: "Train LoRA adapters", advanced: true });
    expect(field(fields, "name")).toMatchObject({ kind: "string", nullable: true, initial: "", maxLength: 200, label: "Version name" });
    expect(field(fields, "early_stopping_patience")).toMatchObject({ kind: "integer", nullable: true, initial: "", minimum: 1, maximum: 1000 });
  });

  it("follows $ref to enums and knows reward models from policies", () => {
    const generation = fieldsFromSchema(kind("generation").params_schema);
    expect(field(generation, "prompts")).toMatchObject({ kind: "enum", options: ["all", "split", "missing"], initial: "missing" });
    expect(field(generation, "model_version_id")).toMatchObject({ kind: "model", label: "Model", modelKinds: ["base", "policy"] });
    expect(field(generation, "top_p")).toMatchObject({ exclusiveMinimum: 0, maximum: 1, initial: "1" });

    const ppo = fieldsFromSchema(kind("ppo").params_schema);
    expect(field(ppo, "reward_model_version_id")).toMatchObject({ kind: "model", modelKinds: ["reward"], label: "Reward model" });
    expect(field(ppo, "policy_model_version_id")).toMatchObject({ modelKinds: ["base", "policy"], label: "Policy model" });
    expect(field(ppo, "snapshot_id")).toMatchObject({ kind: "snapshot", nullable: true, required: false, initial: "" });
    expect(field(ppo, "kl_coef").label).toBe("KL coefficient");

    const evaluation = fieldsFromSchema(kind("evaluation").params_schema);
    expect(field(evaluation, "baseline_model_version_id")).toMatchObject({ kind: "model", nullable: true, label: "Baseline model" });
    expect(field(evaluation, "prompt_split")).toMatchObject({ kind: "string", nullable: true, initial: "test" });
  });

  it("handles enums wrapped in allOf and nullable enums", () => {
    const fields = fieldsFromSchema({
      $defs: { Mode: { enum: ["fast", "slow"], type: "string" } },
      properties: {
        mode: { allOf: [{ $ref: "#/$defs/Mode" }], default: "slow", description: "How." },
        maybe: { anyOf: [{ $ref: "#/$defs/Mode" }, { type: "null" }], default: null },
        bits: { enum: [4, 8], type: "integer", default: 8 },
      },
    });
    expect(buildParams(fields, defaultValues(fields))).toEqual({ ok: true, params: { mode: "slow", maybe: null, bits: 8 } });
    expect(field(fields, "mode")).toMatchObject({ kind: "enum", options: ["fast", "slow"], initial: "slow", description: "How." });
    expect(field(fields, "maybe")).toMatchObject({ kind: "enum", nullable: true, initial: "" });
  });

  it("puts LoRA and PPO internals under Advanced, never a required field", () => {
    const { main, advanced } = splitFields(fieldsFromSchema(kind("ppo").params_schema));
    expect(advanced.map((f) => f.name)).toEqual(
      expect.arrayContaining(["lora", "lora_r", "clip_range", "clip_range_value", "gamma", "lam", "vf_coef", "whiten_rewards"]),
    );
    expect(main.map((f) => f.name)).toEqual(
      expect.arrayContaining(["policy_model_version_id", "reward_model_version_id", "learning_rate", "total_episodes", "kl_coef"]),
    );
    expect(advanced.every((f) => !f.required)).toBe(true);
  });
});

describe("labels and hints", () => {
  it("makes names readable", () => {
    expect(fieldLabel("gradient_accumulation_steps")).toBe("Gradient accumulation steps");
    expect(fieldLabel("model_version_id")).toBe("Model");
    expect(fieldLabel("snapshot_id")).toBe("Snapshot");
    expect(fieldLabel("lora_alpha")).toBe("LoRA alpha");
  });

  it("states ranges in words", () => {
    const base: FieldSpec = { name: "x", label: "X", kind: "number", required: false, nullable: false, initial: "", description: null, advanced: false };
    expect(rangeHint({ ...base, kind: "integer", minimum: 1, maximum: 16 })).toBe("1 to 16");
    expect(rangeHint({ ...base, exclusiveMinimum: 0, maximum: 1 })).toBe("above 0, at most 1");
    expect(rangeHint({ ...base, minimum: 0, exclusiveMaximum: 1 })).toBe("at least 0, below 1");
    expect(rangeHint({ ...base, kind: "integer", minimum: 0, maximum: 2 ** 31 - 1 })).toBe("0 or more");
    expect(rangeHint({ ...base, kind: "integer", minimum: 1, maximum: 100_000_000 })).toBe("1 to 100,000,000");
    expect(rangeHint({ ...base, kind: "string" })).toBeNull();
  });
});

describe("buildParams", () => {
  const fields = fieldsFromSchema(kind("reward_model").params_schema);

  it("asks for the required choices first", () => {
    expect(buildParams(fields, defaultValues(fields))).toEqual({
      ok: false,
      errors: { snapshot_id: "Choose a snapshot.", base_model_version_id: "Choose a model." },
    });
  });

  it("sends numbers as numbers, booleans as booleans and empty nullable fields as null", () => {
    const values = { ...defaultValues(fields), snapshot_id: "3", base_model_version_id: "7", learning_rate: "1e-4", lora: true };
    const built = buildParams(fields, values);
    expect(built).toEqual({
      ok: true,
      params: {
        snapshot_id: 3,
        base_model_version_id: 7,
        lora: true,
        lora_r: 8,
        lora_alpha: 16,
        lora_dropout: 0,
        name: null,
        max_length: 512,
        epochs: 1,
        max_steps: -1,
        learning_rate: 0.0001,
        batch_size: 8,
        gradient_accumulation_steps: 1,
        use_margin: true,
        center_rewards_coefficient: null,
        eval_steps: 50,
        early_stopping_patience: null,
        seed: 0,
      },
    });
  });

  it("leaves out an emptied optional field that may not be null, so the server's default applies", () => {
    const values = { ...defaultValues(fields), snapshot_id: "3", base_model_version_id: "7", max_length: " " };
    const built = buildParams(fields, values);
    expect(built.ok && "max_length" in built.params).toBe(false);
  });

  it("refuses what is not a number, and leaves ranges to the server", () => {
    const values = { ...defaultValues(fields), snapshot_id: "3", base_model_version_id: "7", batch_size: "2.5", epochs: "lots" };
    expect(buildParams(fields, values)).toEqual({
      ok: false,
      errors: { batch_size: "Must be a whole number.", epochs: "Must be a number." },
    });
    const zero = buildParams(fields, { ...values, batch_size: "8", epochs: "1", learning_rate: "0" });
    expect(zero.ok && zero.params.learning_rate).toBe(0);
  });

  it("sends null for a cleared nullable field with a non-null default", () => {
    const evaluation = fieldsFromSchema(kind("evaluation").params_schema);
    const built = buildParams(evaluation, { ...defaultValues(evaluation), prompt_split: "", policy_model_version_id: "4" });
    expect(built.ok && built.params).toMatchObject({ prompt_split: null, policy_model_version_id: 4, reward_model_version_id: null });
  });

  it("starts from a preset where it names a field", () => {
    const values = defaultValues(fields, { snapshot_id: "5", lora: "true", unknown: "x" });
    expect(values).toMatchObject({ snapshot_id: "5", lora: true });
    expect("unknown" in values).toBe(false);
  });
});

describe("server errors and choices", () => {
  const fields = fieldsFromSchema(kind("reward_model").params_schema);

  it("maps a 422 naming params.<field> to that field", () => {
    const err = new ApiError(422, "params.learning_rate: Input should be greater than 0", "invalid", [], "params.learning_rate");
    expect(fieldErrorFromApi(err, fields)).toEqual({ field: "learning_rate", message: "Input should be greater than 0" });
    expect(fieldErrorFromApi(new ApiError(422, "A reward_model job needs a project_id.", "invalid", [], "project_id"), fields)).toBeNull();
    expect(fieldErrorFromApi(new ApiError(422, "x", "invalid", [], "params.nope"), fields)).toBeNull();
    expect(fieldErrorFromApi(new Error("boom"), fields)).toBeNull();
  });

  it("offers ready versions of the right kinds and ready snapshots, newest first", () => {
    const models = [
      model({ id: 1, name: "gpt2", kind: "base" }),
      model({ id: 2, name: "rm", kind: "reward" }),
      model({ id: 3, name: "ppo-3", kind: "policy" }),
      model({ id: 4, name: "broken", kind: "base", status: "invalid" }),
    ];
    const ppo = fieldsFromSchema(kind("ppo").params_schema);
    expect(modelChoices(models, field(ppo, "reward_model_version_id")).map((c) => c.value)).toEqual(["2"]);
    expect(modelChoices(models, field(ppo, "policy_model_version_id"))).toEqual([
      { value: "3", label: "ppo-3 (policy, #3)" },
      { value: "1", label: "gpt2 (base, #1)" },
    ]);
    const snapshots = [snapshot({ id: 1 }), snapshot({ id: 2, name: "wip", status: "building" }), snapshot({ id: 3, name: "round-2" })];
    expect(snapshotChoices(snapshots)).toEqual([
      { value: "3", label: "round-2 (#3)" },
      { value: "1", label: "round-1 (#1)" },
    ]);
  });

  it("offers managers the loop's kinds and admins the checks too", () => {
    expect(launchableKinds(KINDS, false).map((k) => k.kind)).toEqual(["generation", "reward_model", "dpo", "ppo", "evaluation"]);
    expect(launchableKinds(KINDS, true).map((k) => k.kind)).toContain("smoke");
  });
});
