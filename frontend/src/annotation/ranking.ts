/**
 * A ranking as tiers, best first: each inner list is one tier, and candidates in a tier are tied.
 * This is exactly the API's answer shape ({order: Tiers}). All functions are pure and return new arrays.
 *
 * Moves change a card's rank by one step:
 * - up: a tied card leaves its tie and sits just above its former tie-mates; a card alone swaps with the
 *   tier above it. Down is the mirror image.
 * - toggleTie: ties the card with the card directly above it (merging their tiers), or, when it is
 *   already tied with the card above, splits the tier there.
 */
export type Tiers = number[][];

export function initialTiers(ids: readonly number[]): Tiers {
  return ids.map((id) => [id]);
}

export function flatten(tiers: Tiers): number[] {
  return tiers.flat();
}

function locate(tiers: Tiers, id: number): { tier: number; index: number } {
  for (let t = 0; t < tiers.length; t++) {
    const index = tiers[t]!.indexOf(id);
    if (index >= 0) return { tier: t, index };
  }
  throw new Error(`candidate ${id} is not in the ranking`);
}

/** 1-based rank of a candidate's tier (tied candidates share a rank). */
export function rankOf(tiers: Tiers, id: number): number {
  return locate(tiers, id).tier + 1;
}

export function isTiedWithAbove(tiers: Tiers, id: number): boolean {
  return locate(tiers, id).index > 0;
}

export function tierSize(tiers: Tiers, id: number): number {
  return tiers[locate(tiers, id).tier]!.length;
}

export function moveUp(tiers: Tiers, id: number): Tiers {
  const { tier } = locate(tiers, id);
  const current = tiers[tier]!;
  if (current.length > 1) {
    const rest = current.filter((c) => c !== id);
    return [...tiers.slice(0, tier), [id], rest, ...tiers.slice(tier + 1)];
  }
  if (tier === 0) return tiers;
  return [...tiers.slice(0, tier - 1), current, tiers[tier - 1]!, ...tiers.slice(tier + 1)];
}

export function moveDown(tiers: Tiers, id: number): Tiers {
  const { tier } = locate(tiers, id);
  const current = tiers[tier]!;
  if (current.length > 1) {
    const rest = current.filter((c) => c !== id);
    return [...tiers.slice(0, tier), rest, [id], ...tiers.slice(tier + 1)];
  }
  if (tier === tiers.length - 1) return tiers;
  return [...tiers.slice(0, tier), tiers[tier + 1]!, current, ...tiers.slice(tier + 2)];
}

export function toggleTie(tiers: Tiers, id: number): Tiers {
  const { tier, index } = locate(tiers, id);
  const current = tiers[tier]!;
  if (index > 0) {
    // Tied with the card above: split the tier between them.
    return [...tiers.slice(0, tier), current.slice(0, index), current.slice(index), ...tiers.slice(tier + 1)];
  }
  if (tier === 0) return tiers;
  return [...tiers.slice(0, tier - 1), [...tiers[tier - 1]!, ...current], ...tiers.slice(tier + 1)];
}

/**
 * Drag and drop: put `id` at flat position `to` (0-based, in the list without ties shown). Dropped
 * between two cards of the same tier it joins that tier; anywhere else it stands alone.
 */
export function moveTo(tiers: Tiers, id: number, to: number): Tiers {
  const tierOf = new Map<number, number>();
  tiers.forEach((tier, t) => tier.forEach((c) => tierOf.set(c, t)));
  const flat = flatten(tiers).filter((c) => c !== id);
  const at = Math.max(0, Math.min(to, flat.length));
  const above = at > 0 ? flat[at - 1] : undefined;
  const below = at < flat.length ? flat[at] : undefined;
  const joins = above !== undefined && below !== undefined && tierOf.get(above) === tierOf.get(below);
  const ownTier = -1;
  const placed = [...flat.slice(0, at), id, ...flat.slice(at)];
  const keys = placed.map((c) => (c === id ? (joins ? tierOf.get(above!)! : ownTier) : tierOf.get(c)!));
  const out: Tiers = [];
  placed.forEach((c, i) => {
    const last = out[out.length - 1];
    if (i > 0 && last && keys[i] === keys[i - 1] && keys[i] !== ownTier) last.push(c);
    else out.push([c]);
  });
  return out;
}

export function sameTiers(a: Tiers, b: Tiers): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
