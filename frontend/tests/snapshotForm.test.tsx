import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/client/errors";
import type { Criterion, SnapshotCreate } from "../src/client/types";
import { SnapshotForm } from "../src/components/Datasets/SnapshotForm";
import { defaultSnapshotForm, toSnapshotCreate } from "../src/datasets/spec";

const criteria: Criterion[] = [{ name: "helpfulness", description: "", min: 1, max: 5, labels: null, weight: 1 }];

describe("snapshot spec", () => {
  it("sends the API's defaults for an untouched form", () => {
    const built = toSnapshotCreate(defaultSnapshotForm(new Date("2026-03-04T10:00:00Z")));
    expect(built).toEqual({
      ok: true,
      body: {
        name: "snapshot-2026-03-04",
        spec: {
          aggregation: "majority",
          ties: "drop",
          min_annotators: 1,
          min_agreement: null,
          splits: { train: 0.8, validation: 0.1, test: 0.1 },
          use_prompt_split: true,
          seed: 0,
          exclude_paused: true,
          include_gold: false,
          sources: ["pairwise", "ranking", "rating", "rewrite"],
          exclude_flags: ["unusable", "unsafe", "prompt_problem"],
          rating_min_difference: 0.25,
          rewrite_margin: 1,
        },
      },
    });
  });

  it("names the first field to fix", () => {
    const v = defaultSnapshotForm();
    expect(toSnapshotCreate({ ...v, name: "  " })).toEqual({ ok: false, problem: "Give the snapshot a name." });
    expect(toSnapshotCreate({ ...v, seed: "1.5" })).toEqual({ ok: false, problem: "Seed must be a whole number." });
    expect(toSnapshotCreate({ ...v, sources: [] })).toEqual({ ok: false, problem: "Choose at least one kind of pair to make." });
    expect(toSnapshotCreate({ ...v, until: "not a date" })).toEqual({
      ok: false,
      problem: "“Labels before” is not a valid date and time.",
    });
  });
});

describe("SnapshotForm", () => {
  it("turns what was entered into the request body", async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn<(body: SnapshotCreate) => Promise<void>>().mockResolvedValue(undefined);
    render(<SnapshotForm criteria={criteria} onCreate={onCreate} />);

    await user.clear(screen.getByLabelText("Name"));
    await user.type(screen.getByLabelText("Name"), "round 2");
    await user.selectOptions(screen.getByLabelText("Aggregation"), "weighted");
    await user.selectOptions(screen.getByLabelText("Ties"), "keep");
    await user.type(screen.getByLabelText("Minimum agreement"), "0.5");
    await user.clear(screen.getByLabelText("Minimum annotators"));
    await user.type(screen.getByLabelText("Minimum annotators"), "2");
    await user.clear(screen.getByLabelText("Train"));
    await user.type(screen.getByLabelText("Train"), "60");
    await user.clear(screen.getByLabelText("Validation"));
    await user.type(screen.getByLabelText("Validation"), "20");
    await user.clear(screen.getByLabelText("Test"));
    await user.type(screen.getByLabelText("Test"), "20");
    await user.clear(screen.getByLabelText("Seed"));
    await user.type(screen.getByLabelText("Seed"), "7");
    await user.click(screen.getByLabelText("Rewrites (rewrite ≻ original)"));
    await user.click(screen.getByLabelText("Leave out paused annotators’ labels"));
    await user.click(screen.getByLabelText("Add pairs from gold answers"));
    await user.click(screen.getByText("Advanced"));
    await user.selectOptions(screen.getByLabelText("Rating criterion"), "helpfulness");
    await user.click(screen.getByLabelText("Duplicate"));
    await user.click(screen.getByLabelText("Unsafe"));
    await user.click(screen.getByRole("button", { name: "Create snapshot" }));

    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(onCreate.mock.calls[0]![0]).toEqual({
      name: "round 2",
      spec: {
        aggregation: "weighted",
        ties: "keep",
        min_annotators: 2,
        min_agreement: 0.5,
        splits: { train: 0.6, validation: 0.2, test: 0.2 },
        use_prompt_split: true,
        seed: 7,
        exclude_paused: false,
        include_gold: true,
        sources: ["pairwise", "ranking", "rating"],
        exclude_flags: ["unusable", "prompt_problem", "duplicate"],
        rating_min_difference: 0.25,
        rewrite_margin: 1,
        rating_criterion: "helpfulness",
      },
    });
  });

  it("refuses splits that do not add up, and shows the server's message when it refuses", async () => {
    const user = userEvent.setup();
    const onCreate = vi
      .fn<(body: SnapshotCreate) => Promise<void>>()
      .mockRejectedValue(new ApiError(422, "spec.min_annotators: Input should be less than or equal to 50"));
    render(<SnapshotForm criteria={[]} onCreate={onCreate} />);
    await user.clear(screen.getByLabelText("Train"));
    await user.type(screen.getByLabelText("Train"), "85");
    expect(screen.getByText(/Sum: 105%/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Create snapshot" }));
    expect(screen.getByRole("alert")).toHaveTextContent("The split shares must be 0 or more and add up to 100%.");
    expect(onCreate).not.toHaveBeenCalled();

    await user.clear(screen.getByLabelText("Train"));
    await user.type(screen.getByLabelText("Train"), "80");
    await user.click(screen.getByRole("button", { name: "Create snapshot" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("spec.min_annotators: Input should be less than or equal to 50");
    expect(screen.queryByLabelText("Rating criterion")).not.toBeInTheDocument(); // no rubric, no criterion choice
  });
});
