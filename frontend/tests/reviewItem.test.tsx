import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Project, ReviewItem } from "../src/client/types";
import { ReviewItemPanel } from "../src/components/Quality/ReviewItemPanel";

// openapi-fetch takes globalThis.fetch when the client is created, so stub it before any import.
const server = vi.hoisted(() => {
  const state = {
    item: null as unknown as ReviewItem,
    puts: [] as unknown[],
    gold: [] as unknown[],
    refuseNext: false,
  };
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  globalThis.fetch = (async (input: Request | string) => {
    const request = input instanceof Request ? input : new Request(input);
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/api/projects/1/review/items/5") return json(state.item);
    if (request.method === "PUT" && path === "/api/projects/1/items/5/adjudication") {
      const body = (await request.json()) as { answer: Record<string, unknown>; note: string | null };
      state.puts.push(body);
      if (state.refuseNext) {
        state.refuseNext = false;
        return json({ detail: "answer.choice: Input should be 'a', 'b' or 'tie'", code: "invalid" }, 422);
      }
      const adjudication = { item_id: 5, answer: body.answer, note: body.note, reviewer_id: 9, updated_at: "2026-01-02T00:00:00Z" };
      state.item = { ...state.item, adjudication };
      return json(adjudication);
    }
    if (request.method === "PUT" && path === "/api/projects/1/items/5/gold") {
      state.gold.push(await request.json());
      return json({ id: 5, prompt_id: 2, candidate_ids: [11, 12], is_gold: true, gold_answer: {}, overlap: 3, labels_done: 3 });
    }
    return json({ detail: "Not found." }, 404);
  }) as typeof fetch;
  return state;
});

const project: Project = {
  id: 1,
  name: "Demo",
  guidelines: "",
  task_kind: "pairwise",
  criteria: [],
  candidates_per_item: 2,
  overlap: 3,
  lease_seconds: 900,
  gold_ratio: 0,
  grouping: "all",
  max_items_per_prompt: 10,
  seed: 0,
  archived: false,
  created_at: "2026-01-01T00:00:00Z",
  my_role: "manager",
};

function label(id: number, username: string, answer: Record<string, unknown> | null, extra: object = {}) {
  return {
    label_id: id,
    user_id: id,
    username,
    answer,
    flags: [],
    rationale: null,
    rewrite: null,
    time_spent_ms: 4200,
    created_at: "2026-01-01T10:00:00Z",
    ...extra,
  };
}

function renderPanel(canManage = true) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ReviewItemPanel project={project} itemId={5} canManage={canManage} />
    </QueryClientProvider>,
  );
}

beforeEach(() => {
  server.puts = [];
  server.gold = [];
  server.item = {
    item_id: 5,
    prompt_id: 2,
    prompt_text: "What is **2+2**?",
    prompt_messages: null,
    candidates: [
      { id: 11, text: "Four." },
      { id: 12, text: "Five." },
    ],
    is_gold: false,
    gold_answer: null,
    agreement: 0.333,
    labels: [
      label(1, "ann", { choice: "a", strength: 2 }, { rationale: "A is right." }),
      label(2, "bob", { choice: "b", strength: 3 }, { rewrite: "It is **4**." }),
      label(3, "cat", null, { flags: ["unusable"] }),
    ],
    adjudication: null,
  };
});

describe("ReviewItemPanel", () => {
  it("shows every answer in words and sends the decision entered in the form", async () => {
    const user = userEvent.setup();
    renderPanel();
    const answers = await screen.findByRole("list", { name: "Annotators’ answers" });
    const rows = within(answers).getAllByRole("listitem");
    expect(within(rows[0]!).getByText("A, strength 2")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("B, strength 3")).toBeInTheDocument();
    expect(within(rows[2]!).getByText("No answer")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("A is right.")).toBeInTheDocument();
    expect(within(rows[2]!).getByText("unusable")).toBeInTheDocument();
    expect(screen.getByText("2+2").tagName).toBe("STRONG"); // the prompt is Markdown

    // Start from bob's answer, then make it slightly weaker.
    await user.click(screen.getByRole("button", { name: "Use this answer (bob)" }));
    expect(screen.getByRole("radio", { name: "B is better" })).toBeChecked();
    expect(screen.getByRole("radio", { name: "Much" })).toBeChecked();
    await user.click(screen.getByRole("radio", { name: "Clearly" }));
    await user.type(screen.getByLabelText("Note (optional)"), "bob, less sure");

    server.refuseNext = true;
    await user.click(screen.getByRole("button", { name: "Save decision" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("answer.choice: Input should be 'a', 'b' or 'tie'");

    await user.click(screen.getByRole("button", { name: "Save decision" }));
    expect(await screen.findByText("Decision saved.")).toBeInTheDocument();
    expect(server.puts).toEqual([
      { answer: { choice: "b", strength: 2 }, note: "bob, less sure" },
      { answer: { choice: "b", strength: 2 }, note: "bob, less sure" },
    ]);
    expect(await screen.findByTestId("current-decision")).toHaveTextContent("Decided: B, strength 2");
    expect(screen.getByRole("button", { name: "Withdraw decision" })).toBeInTheDocument();
  });

  it("asks for a choice first, and lets managers mark the item gold with the answer", async () => {
    const user = userEvent.setup();
    renderPanel();
    await user.click(await screen.findByRole("button", { name: "Mark as gold with this answer" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose A, B or tie first.");
    await user.click(screen.getByRole("radio", { name: "Tie" }));
    await user.click(screen.getByRole("button", { name: "Mark as gold with this answer" }));
    expect(await screen.findByText("Marked as gold.")).toBeInTheDocument();
    expect(server.gold).toEqual([{ answer: { choice: "tie", strength: 1 } }]);
  });

  it("offers reviewers no gold actions", async () => {
    renderPanel(false);
    await screen.findByRole("button", { name: "Save decision" });
    expect(screen.queryByRole("button", { name: /gold/ })).not.toBeInTheDocument();
  });
});
