export type Choice = "a" | "b" | "tie";
export type Strength = 1 | 2 | 3;

export type PairwiseAction = { kind: "choice"; choice: Choice } | { kind: "strength"; strength: Strength };

export const STRENGTH_LABELS: Record<Strength, string> = { 1: "Slightly", 2: "Clearly", 3: "Much" };

/** Keys of the pairwise task (shown in the shortcuts dialog). */
export const PAIRWISE_KEYS: { keys: string[]; what: string }[] = [
  { keys: ["a", "←"], what: "Response A is better" },
  { keys: ["b", "→"], what: "Response B is better" },
  { keys: ["t", "="], what: "Tie: equally good (or bad)" },
  { keys: ["1", "2", "3"], what: "Strength: slightly, clearly, much better" },
];

/** Map a key press to a pairwise action (null when the key means nothing here). */
export function pairwiseKeyAction(key: string): PairwiseAction | null {
  switch (key) {
    case "a":
    case "A":
    case "ArrowLeft":
      return { kind: "choice", choice: "a" };
    case "b":
    case "B":
    case "ArrowRight":
      return { kind: "choice", choice: "b" };
    case "t":
    case "T":
    case "=":
      return { kind: "choice", choice: "tie" };
    case "1":
    case "2":
    case "3":
      return { kind: "strength", strength: Number(key) as Strength };
    default:
      return null;
  }
}
