import type { JobKind, JobKindInfo } from "../client/types";

/** What each kind is called in the launcher. */
export const KIND_TITLES: Record<JobKind, string> = {
  generation: "Generate responses",
  reward_model: "Train a reward model",
  dpo: "Fine-tune with DPO",
  ppo: "Fine-tune with PPO",
  evaluation: "Evaluate models",
  snapshot: "Build a snapshot",
  smoke: "Smoke test",
  validate_model: "Check a model loads",
};

/** Launchable from a project by its managers, in the order of the loop. Snapshots are made on the Snapshots tab. */
const MANAGER_KINDS: JobKind[] = ["generation", "reward_model", "dpo", "ppo", "evaluation"];
/** Plumbing checks, for admins only. */
const ADMIN_KINDS: JobKind[] = ["smoke", "validate_model"];

/** The kinds to offer, in order, from what the API lists. */
export function launchableKinds(kinds: JobKindInfo[], isAdmin: boolean): JobKindInfo[] {
  const order = isAdmin ? [...MANAGER_KINDS, ...ADMIN_KINDS] : MANAGER_KINDS;
  return order.flatMap((k) => kinds.filter((info) => info.kind === k));
}
