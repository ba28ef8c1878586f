import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { AnnotatorQualityTable } from "../src/components/Quality/AnnotatorQualityTable";
import { annotator } from "./fixtures";

describe("AnnotatorQualityTable", () => {
  const rows = [
    annotator({ user_id: 1, username: "ann" }),
    annotator({ user_id: 2, username: "bob", flags: ["position_bias", "low_gold_accuracy"], paused: true, first_pick_share: 0.9 }),
    annotator({ user_id: 3, username: "root", role: null }),
  ];

  it("shows flags as named badges, flagged rows first, and pauses or resumes", async () => {
    const user = userEvent.setup();
    const onPause = vi.fn();
    render(<AnnotatorQualityTable rows={rows} onPause={onPause} busyUserId={null} />);
    const body = screen.getAllByRole("row").slice(1);
    expect(body.map((r) => within(r).getByRole("rowheader").textContent)).toEqual(["bobpaused", "ann", "root"]);

    const bob = body[0]!;
    const badges = within(within(bob).getByRole("list", { name: "Flags" })).getAllByRole("listitem");
    expect(badges.map((b) => b.textContent)).toEqual(["Position bias", "Low gold accuracy"]);
    expect(within(bob).getByText("Position bias")).toHaveAttribute("title", expect.stringContaining("first-shown"));
    expect(within(bob).getByText("90% vs 50%")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Resume bob" }));
    expect(onPause).toHaveBeenLastCalledWith(expect.objectContaining({ user_id: 2 }), false);
    await user.click(screen.getByRole("button", { name: "Pause ann" }));
    expect(onPause).toHaveBeenLastCalledWith(expect.objectContaining({ user_id: 1 }), true);
    // Not a member (an admin who labeled): nothing to pause.
    expect(screen.queryByRole("button", { name: /root/ })).not.toBeInTheDocument();
  });

  it("disables the button of the row being changed", () => {
    render(<AnnotatorQualityTable rows={rows} onPause={vi.fn()} busyUserId={1} />);
    expect(screen.getByRole("button", { name: "Pause ann" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Resume bob" })).toBeEnabled();
  });
});
