import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/client/errors";
import type { Assignment, LabelSubmit, Project } from "../src/client/types";
import { LabelForm } from "../src/components/Annotation/LabelForm";

const project: Project = {
  id: 1,
  name: "Demo",
  guidelines: "",
  task_kind: "pairwise",
  criteria: [],
  candidates_per_item: 2,
  overlap: 1,
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
  state: "leased",
  leased_at: "2026-01-01T00:00:00Z",
  expires_at: "2099-01-01T00:00:00Z",
  item: {
    id: 3,
    prompt: { id: 2, text: "What is **2+2**?", messages: null },
    candidates: [
      { id: 11, text: "Four." },
      { id: 12, text: "```python\nprint(4)\n```" },
    ],
  },
  label: null,
};

describe("LabelForm", () => {
  it("keeps the choice and rationale when the submit fails, then submits them on retry", async () => {
    const user = userEvent.setup();
    const onSubmit = vi
      .fn<(body: LabelSubmit) => Promise<void>>()
      .mockRejectedValueOnce(new ApiError(409, "This item's lease has expired and the item is complete.", "conflict"))
      .mockResolvedValueOnce(undefined);
    render(
      <LabelForm project={project} assignment={assignment} onSubmit={onSubmit} onSkip={vi.fn()} onDiscard={vi.fn()} />,
    );

    await user.keyboard("b3");
    await user.click(screen.getByLabelText(/Rationale/));
    await user.keyboard("B shows the code.");
    await user.keyboard("{Escape}");
    await user.keyboard("{Enter}");

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Not saved: This item's lease has expired and the item is complete.");
    expect(screen.getByRole("radio", { name: /B is better/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: /Much/ })).toBeChecked();
    expect(screen.getByLabelText(/Rationale/)).toHaveValue("B shows the code.");
    expect(screen.getByRole("button", { name: /Move on/ })).toBeInTheDocument();

    await act(async () => {
      fireEvent.keyDown(window, { key: "Enter" });
    });
    expect(onSubmit).toHaveBeenCalledTimes(2);
    expect(onSubmit.mock.calls[1]![0]).toMatchObject({
      answer: { choice: "b", strength: 3 },
      rationale: "B shows the code.",
      flags: [],
    });
  });

  it("says what is missing instead of sending an incomplete label", async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(
      <LabelForm project={project} assignment={assignment} onSubmit={onSubmit} onSkip={vi.fn()} onDiscard={vi.fn()} />,
    );
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose A, B or tie");
    expect(onSubmit).not.toHaveBeenCalled();
    await user.keyboard("u{Enter}"); // flagged as unusable: no answer needed
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ flags: ["unusable"] }));
    expect(onSubmit.mock.calls[0]![0]).not.toHaveProperty("answer");
  });

  it("opens the rewrite with w, skips with s, and never takes letters typed into a text field", async () => {
    const user = userEvent.setup();
    const onSkip = vi.fn().mockResolvedValue(undefined);
    const onSubmit = vi.fn();
    render(<LabelForm project={project} assignment={assignment} onSubmit={onSubmit} onSkip={onSkip} onDiscard={vi.fn()} />);
    await user.keyboard("w");
    const rewrite = screen.getByLabelText("Rewritten response");
    await waitFor(() => expect(rewrite).toHaveFocus());
    await user.keyboard("a better answer");
    expect(rewrite).toHaveValue("a better answer");
    expect(screen.getByRole("radio", { name: /A is better/ })).not.toBeChecked(); // "a" was typed, not a choice
    await user.keyboard("{Escape}s");
    expect(onSkip).toHaveBeenCalledTimes(1);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("renders Markdown and code blocks in responses", () => {
    render(
      <LabelForm project={project} assignment={assignment} onSubmit={vi.fn()} onSkip={vi.fn()} onDiscard={vi.fn()} />,
    );
    expect(screen.getByText("2+2").tagName).toBe("STRONG");
    expect(document.querySelector("pre code")).toHaveTextContent("print(4)");
  });
});
