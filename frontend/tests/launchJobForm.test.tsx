import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/client/errors";
import type { JobKindInfo, ModelVersion, Snapshot } from "../src/client/types";
import { LaunchJobForm } from "../src/components/Jobs/LaunchJobForm";
import fixture from "./jobKinds.fixture.json";

const KINDS = fixture as JobKindInfo[];
const kind = (name: string) => KINDS.find((k) => k.kind === name)!;

const base = {
  parent_id: null,
  job_id: null,
  snapshot_id: null,
  metrics: {},
  info: {},
  error: null,
  source: "x",
  created_at: "2026-01-01T00:00:00Z",
} as const;
const MODELS: ModelVersion[] = [
  { ...base, id: 1, name: "gpt2", kind: "base", status: "ready" },
  { ...base, id: 2, name: "rm-2", kind: "reward", status: "ready" },
  { ...base, id: 3, name: "pending-llama", kind: "base", status: "pending" },
];
const SNAPSHOTS: Snapshot[] = [
  {
    id: 5,
    project_id: 1,
    name: "round-1",
    status: "ready",
    spec: {},
    counts: {},
    job_id: 9,
    content_hash: "abc",
    created_by: null,
    created_at: "2026-01-01T00:00:00Z",
    finished_at: null,
  },
];

type Launch = (params: Record<string, unknown>) => Promise<void>;

describe("LaunchJobForm", () => {
  it("renders the schema as labelled controls with defaults, and sends the params", async () => {
    const user = userEvent.setup();
    const onLaunch = vi.fn<Launch>().mockResolvedValue(undefined);
    render(<LaunchJobForm kind={kind("reward_model")} models={MODELS} snapshots={SNAPSHOTS} submitLabel="Launch job" onLaunch={onLaunch} />);

    const snapshot = screen.getByLabelText("Snapshot");
    expect(within(snapshot).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose…", "round-1 (#5)"]);
    const baseModel = screen.getByLabelText("Base model");
    // Only ready causal LMs: not the reward model, not the pending one.
    expect(within(baseModel).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose…", "gpt2 (base, #1)"]);
    expect(screen.getByLabelText("Learning rate")).toHaveValue(0.00005);
    expect(screen.getByLabelText("Learning rate")).toHaveAttribute("step", "any");
    expect(screen.getByLabelText("Batch size")).toHaveAttribute("min", "1");
    expect(screen.getByLabelText("Batch size")).toHaveAttribute("max", "1024");
    expect(screen.getByLabelText("Max steps")).toHaveAccessibleDescription("-1: run the epochs. · -1 to 10,000,000");
    expect(screen.getByLabelText("Version name")).toHaveAttribute("placeholder", "none");
    // LoRA and the rest are collapsed under Advanced.
    expect(screen.getByLabelText("Train LoRA adapters")).not.toBeVisible();

    // Nothing chosen: the form says so at the fields and sends nothing.
    await user.click(screen.getByRole("button", { name: "Launch job" }));
    expect(onLaunch).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Snapshot")).toHaveAccessibleDescription("A ready snapshot of this job's project. Choose a snapshot.");
    expect(screen.getByLabelText("Base model")).toBeInvalid();

    await user.selectOptions(screen.getByLabelText("Snapshot"), "5");
    await user.selectOptions(screen.getByLabelText("Base model"), "1");
    expect(screen.getByLabelText("Snapshot")).toBeValid();
    await user.type(screen.getByLabelText("Version name"), "rm-round-1");
    await user.clear(screen.getByLabelText("Epochs"));
    await user.type(screen.getByLabelText("Epochs"), "2");
    await user.click(screen.getByText("Advanced"));
    await user.click(screen.getByLabelText("Train LoRA adapters"));
    await user.click(screen.getByRole("button", { name: "Launch job" }));

    expect(onLaunch).toHaveBeenCalledTimes(1);
    expect(onLaunch.mock.calls[0]![0]).toMatchObject({
      snapshot_id: 5,
      base_model_version_id: 1,
      name: "rm-round-1",
      epochs: 2,
      lora: true,
      learning_rate: 0.00005,
      early_stopping_patience: null,
    });
  });

  it("shows the server's refusal next to the field it names, opening Advanced when needed", async () => {
    const user = userEvent.setup();
    const onLaunch = vi
      .fn<Launch>()
      .mockRejectedValueOnce(new ApiError(422, "params.learning_rate: Input should be greater than 0", "invalid", [], "params.learning_rate"))
      .mockRejectedValueOnce(new ApiError(422, "params.lora_r: Input should be less than or equal to 512", "invalid", [], "params.lora_r"))
      .mockRejectedValueOnce(new ApiError(404, "Snapshot 5 not found."))
      .mockResolvedValue(undefined);
    render(
      <LaunchJobForm
        kind={kind("reward_model")}
        models={MODELS}
        snapshots={SNAPSHOTS}
        preset={{ snapshot_id: "5", base_model_version_id: "1" }}
        submitLabel="Launch job"
        onLaunch={onLaunch}
      />,
    );
    expect(screen.getByLabelText("Snapshot")).toHaveValue("5");

    await user.clear(screen.getByLabelText("Learning rate"));
    await user.type(screen.getByLabelText("Learning rate"), "0");
    await user.click(screen.getByRole("button", { name: "Launch job" }));
    const rate = screen.getByLabelText("Learning rate");
    expect(await screen.findByText("Input should be greater than 0")).toBeInTheDocument();
    expect(rate).toBeInvalid();
    expect(rate).toHaveAccessibleDescription(expect.stringContaining("Input should be greater than 0"));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument(); // not at the top: at the field

    // Editing the field clears its message.
    await user.clear(rate);
    await user.type(rate, "0.0001");
    expect(screen.queryByText("Input should be greater than 0")).not.toBeInTheDocument();

    // A field under Advanced: Advanced opens to show it.
    await user.click(screen.getByRole("button", { name: "Launch job" }));
    expect(await screen.findByText("Input should be less than or equal to 512")).toBeVisible();
    expect(screen.getByLabelText("LoRA rank (r)")).toBeInvalid();

    // Not about a field: at the top.
    await user.click(screen.getByRole("button", { name: "Launch job" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Snapshot 5 not found.");

    await user.click(screen.getByRole("button", { name: "Launch job" }));
    expect(onLaunch).toHaveBeenCalledTimes(4);
    expect(onLaunch.mock.calls[3]![0]).toMatchObject({ learning_rate: 0.0001, snapshot_id: 5 });
  });

  it("offers None for optional ids and reward models for the reward field", () => {
    render(<LaunchJobForm kind={kind("ppo")} models={MODELS} snapshots={SNAPSHOTS} submitLabel="Launch job" onLaunch={vi.fn<Launch>()} />);
    expect(within(screen.getByLabelText("Reward model")).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "Choose…",
      "rm-2 (reward, #2)",
    ]);
    const snapshot = screen.getByLabelText("Snapshot");
    expect(snapshot).toHaveValue("");
    expect(within(snapshot).getAllByRole("option").map((o) => o.textContent)).toEqual(["None", "round-1 (#5)"]);
    expect(screen.getByLabelText("Adaptive KL coefficient")).toHaveAttribute("type", "checkbox");
  });
});
