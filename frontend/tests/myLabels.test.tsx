import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { answerInWords, draftFromLabel, flagNames } from "../src/annotation/myLabels";
import { ApiError } from "../src/client/errors";
import type { Assignment, Criterion, ItemView, LabelRead, LabelSubmit, Project } from "../src/client/types";
import { LabelForm } from "../src/components/Annotation/LabelForm";
import { COMPLETE_MESSAGE } from "../src/components/MyLabels/LabelEditor";

const ids = [11, 12, 13];
const criteria: Criterion[] = [
  { name: "helpfulness", description: "", min: 1, max: 5, labels: null, weight: 1 },
  { name: "harmless", description: "", min: 0, max: 1, labels: null, weight: 1 },
];

const item: ItemView = {
  id: 3,
  prompt: { id: 2, text: "What is 2+2?", messages: null },
  candidates: [
    { id: 11, text: "Four." },
    { id: 12, text: "Five." },
  ],
};

function label(patch: Partial<LabelRead>): LabelRead {
  return {
    id: 40,
    assignment_id: 7,
    item_id: 3,
    project_id: 1,
    answer: null,
    flags: [],
    rationale: null,
    rewrite: null,
    time_spent_ms: 4000,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...patch,
  };
}

describe("answerInWords", () => {
  it("reads pairwise answers as the labeling screen names them", () => {
    expect(answerInWords("pairwise", { choice: "a", strength: 1 }, ids)).toBe("A is better · slightly");
    expect(answerInWords("pairwise", { choice: "b", strength: 3 }, ids)).toBe("B is better · much");
    expect(answerInWords("pairwise", { choice: "b" }, ids)).toBe("B is better");
    expect(answerInWords("pairwise", { choice: "tie", strength: 0 }, ids)).toBe("Tie");
  });

  it("reads rankings and ratings like the review screens (reusing formatAnswer)", () => {
    expect(answerInWords("ranking", { order: [[13], [11, 12]] }, ids)).toBe("C ≻ A = B");
    expect(answerInWords("rating", { scores: { harmless: 1, helpfulness: 4 } }, ids, criteria)).toBe(
      "helpfulness 4 · harmless 1",
    );
  });

  it("says so when a flagged label has no answer", () => {
    expect(answerInWords("pairwise", null, ids)).toBe("No answer");
  });

  it("names flags like the form does", () => {
    expect(flagNames(["unusable", "prompt_problem", "new_flag"])).toEqual(["Unusable", "Prompt problem", "new flag"]);
  });
});

describe("draftFromLabel", () => {
  it("prefills a pairwise choice, its strength and the details", () => {
    const draft = draftFromLabel(
      "pairwise",
      item,
      label({ answer: { choice: "b", strength: 3 }, flags: ["unsafe"], rationale: "B is wrong", rewrite: "4" }),
    );
    expect(draft).toMatchObject({ choice: "b", strength: 3, flags: ["unsafe"], rationale: "B is wrong", rewrite: "4" });
  });

  it("keeps the default strength for a tie (stored as 0)", () => {
    expect(draftFromLabel("pairwise", item, label({ answer: { choice: "tie", strength: 0 } }))).toMatchObject({
      choice: "tie",
      strength: 2,
    });
  });

  it("restores a ranking's tiers and a rating's scores", () => {
    const three: ItemView = { ...item, candidates: ids.map((id) => ({ id, text: `R${id}` })) };
    expect(draftFromLabel("ranking", three, label({ answer: { order: [[13], [11, 12]] } })).tiers).toEqual([
      [13],
      [11, 12],
    ]);
    expect(draftFromLabel("ranking", three, label({ answer: null, flags: ["unusable"] })).tiers).toEqual([
      [11],
      [12],
      [13],
    ]);
    expect(draftFromLabel("rating", item, label({ answer: { scores: { helpfulness: 4, harmless: 1 } } })).scores).toEqual(
      { helpfulness: 4, harmless: 1 },
    );
  });
});

const project: Project = {
  id: 1,
  name: "Demo",
  guidelines: "",
  task_kind: "pairwise",
  criteria: [],
  candidates_per_item: 2,
  overlap: 2,
  lease_seconds: 900,
  gold_ratio: 0,
  grouping: "all",
  max_items_per_prompt: 10,
  seed: 0,
  archived: false,
  created_at: "2026-01-01T00:00:00Z",
  my_role: "annotator",
};

const assignment: Assignment = {
  id: 7,
  project_id: 1,
  state: "submitted",
  leased_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-01-01T00:15:00Z",
  item,
  label: label({ answer: { choice: "a", strength: 1 } }),
};

describe("LabelForm editing a label", () => {
  it("starts from my answer, saves the change without a new labeling time, and keeps the form on a 409", async () => {
    const user = userEvent.setup();
    const onSubmit = vi
      .fn<(body: LabelSubmit) => Promise<void>>()
      .mockRejectedValueOnce(new ApiError(409, COMPLETE_MESSAGE, "conflict"));
    const onCancel = vi.fn();
    render(
      <LabelForm
        project={project}
        assignment={assignment}
        initialDraft={draftFromLabel("pairwise", item, assignment.label!)}
        onSubmit={onSubmit}
        onCancel={onCancel}
      />,
    );
    expect(screen.getByRole("radio", { name: /A is better/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: /Slightly/ })).toBeChecked();
    expect(screen.queryByRole("button", { name: /Skip/ })).not.toBeInTheDocument();

    await user.keyboard("s"); // no skipping a stored label
    await user.keyboard("b{Enter}");
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ answer: { choice: "b", strength: 1 }, time_spent_ms: null }),
    );
    expect(await screen.findByRole("alert")).toHaveTextContent("This item is complete; its labels are final.");
    expect(screen.getByRole("radio", { name: /B is better/ })).toBeChecked();
    expect(onCancel).not.toHaveBeenCalled();

    await user.keyboard("{Escape}");
    await waitFor(() => expect(onCancel).toHaveBeenCalledTimes(1));
    expect(window.sessionStorage.length).toBe(0); // an edit keeps no draft
  });
});
