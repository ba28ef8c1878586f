import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { initialTiers, moveDown, moveTo, moveUp, toggleTie, type Tiers } from "../src/annotation/ranking";
import { RankingTask } from "../src/components/Annotation/RankingTask";

describe("ranking moves", () => {
  const start = initialTiers([1, 2, 3, 4]);

  it("moves a lone card one rank at a time and stops at the ends", () => {
    expect(moveUp(start, 3)).toEqual([[1], [3], [2], [4]]);
    expect(moveDown(start, 1)).toEqual([[2], [1], [3], [4]]);
    expect(moveUp(start, 1)).toBe(start);
    expect(moveDown(start, 4)).toBe(start);
  });

  it("ties with the card above, and unties again", () => {
    const tied = toggleTie(start, 2);
    expect(tied).toEqual([[1, 2], [3], [4]]);
    expect(toggleTie(tied, 2)).toEqual(start);
    expect(toggleTie(start, 1)).toBe(start); // nothing above the first card
  });

  it("merges whole tiers when tying across them, and splits at the card when untying", () => {
    const t: Tiers = [[1, 2], [3, 4]];
    expect(toggleTie(t, 3)).toEqual([[1, 2, 3, 4]]);
    expect(toggleTie([[1, 2, 3, 4]], 3)).toEqual([[1, 2], [3, 4]]);
  });

  it("takes a tied card out of its tie when it moves", () => {
    const t: Tiers = [[1], [2, 3], [4]];
    expect(moveUp(t, 3)).toEqual([[1], [3], [2], [4]]);
    expect(moveDown(t, 2)).toEqual([[1], [3], [2], [4]]);
    expect(moveUp(t, 2)).toEqual([[1], [2], [3], [4]]);
  });

  it("jumps a lone card over a whole tie", () => {
    expect(moveUp([[1, 2], [3]], 3)).toEqual([[3], [1, 2]]);
    expect(moveDown([[3], [1, 2]], 3)).toEqual([[1, 2], [3]]);
  });

  it("drops a dragged card alone, or into a tie when dropped inside it", () => {
    expect(moveTo(start, 4, 0)).toEqual([[4], [1], [2], [3]]);
    expect(moveTo([[1, 2], [3], [4]], 4, 1)).toEqual([[1, 4, 2], [3]]);
    expect(moveTo([[1, 2], [3], [4]], 1, 3)).toEqual([[2], [3], [4], [1]]);
  });
});

function Harness({ ids }: { ids: number[] }) {
  const [tiers, setTiers] = useState<Tiers>(initialTiers(ids));
  const [said, setSaid] = useState("");
  return (
    <>
      <RankingTask
        candidates={ids.map((id) => ({ id, text: `text ${id}` }))}
        tiers={tiers}
        onChange={setTiers}
        announce={setSaid}
      />
      <output data-testid="answer">{JSON.stringify(tiers)}</output>
      <output data-testid="said">{said}</output>
    </>
  );
}

function card(id: number): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-candidate-id="${id}"]`);
  if (!el) throw new Error(`no card ${id}`);
  return el;
}

describe("RankingTask keyboard", () => {
  it("reorders with j/k and arrows, ties with t, keeps focus on the moved card", () => {
    render(<Harness ids={[10, 20, 30]} />);
    card(10).focus();
    fireEvent.keyDown(card(10), { key: "j" });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[20],[10],[30]]");
    expect(card(10)).toHaveFocus();
    fireEvent.keyDown(card(10), { key: "ArrowDown" });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[20],[30],[10]]");
    expect(screen.getByTestId("said")).toHaveTextContent("Response A: rank 3 of 3.");

    card(30).focus();
    fireEvent.keyDown(card(30), { key: "k" });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[30],[20],[10]]");

    // Tie B (20) with C (30) above it, then untie.
    card(20).focus();
    fireEvent.keyDown(card(20), { key: "t" });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[30,20],[10]]");
    expect(screen.getByTestId("said")).toHaveTextContent("Response B: rank 1 of 2, tied with C.");
    expect(card(20)).toHaveFocus();
    expect(screen.getByText("Tie")).toBeInTheDocument();
    fireEvent.keyDown(card(20), { key: "t" });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[30],[20],[10]]");
  });

  it("ignores keys with modifiers (browser shortcuts stay usable)", () => {
    render(<Harness ids={[1, 2, 3]} />);
    fireEvent.keyDown(card(1), { key: "j", ctrlKey: true });
    expect(screen.getByTestId("answer")).toHaveTextContent("[[1],[2],[3]]");
  });
});
