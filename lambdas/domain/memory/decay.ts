import type { MemoryType } from './schemas';

const DAY_MS = 86_400_000;

/**
 * How long, idle, a memory takes to lose half its weight. Episodes ("called about a refund on
 * Tuesday") stop mattering quickly; facts about people fade slower; general facts and
 * procedures ("refunds need a receipt") stay useful for a long time.
 */
export const HALF_LIFE_DAYS: Readonly<Record<MemoryType, number>> = {
  episodic: 30,
  social: 90,
  semantic: 180,
  procedural: 365,
};

/** Weight of ln(1 + accessCount): 1 recall ≈ +14 %, 10 ≈ +48 %, 100 ≈ +92 %. */
export const ACCESS_BOOST = 0.2;

/**
 * How much effective importance moves the ranking. Similarity leads; an effective importance of
 * 1 is worth +0.1 similarity: enough to order near-equally relevant memories by weight, never
 * enough to lift an unrelated memory above a clearly relevant one.
 */
export const IMPORTANCE_WEIGHT = 0.1;

export interface DecayInput {
  readonly type: MemoryType;
  /** As stored, 0..1. */
  readonly importance: number;
  readonly accessCount: number;
  readonly createdAtMs: number;
  /** Undefined (or NaN) if the memory was never recalled. */
  readonly lastAccessedAtMs?: number | undefined;
}

/**
 * The importance a memory has now: its stored importance, halved for every half-life of its
 * type it has gone unused, and boosted by how often it has been recalled, capped at 1.
 *
 *   effective = min(1, importance × 2^(−idleDays / HALF_LIFE_DAYS[type]) × (1 + ACCESS_BOOST × ln(1 + accessCount)))
 *
 * `idleDays` counts from the last recall, or from creation for a memory never recalled (never
 * negative, so clock skew cannot inflate it). Computed when read, so decay needs no scheduled
 * job rewriting items; retention (deletion) is the table's TTL, not this.
 */
export function effectiveImportance(memory: DecayInput, nowMs: number): number {
  const lastUsed =
    memory.lastAccessedAtMs !== undefined && !Number.isNaN(memory.lastAccessedAtMs)
      ? memory.lastAccessedAtMs
      : memory.createdAtMs;
  const idleDays = Math.max(0, nowMs - lastUsed) / DAY_MS;
  const decay = 2 ** (-idleDays / HALF_LIFE_DAYS[memory.type]);
  const boost = 1 + ACCESS_BOOST * Math.log1p(Math.max(0, memory.accessCount));
  return Math.min(1, memory.importance * decay * boost);
}

/** The order search results come in (higher first). See IMPORTANCE_WEIGHT. */
export function rankScore(similarity: number, effective: number): number {
  return similarity + IMPORTANCE_WEIGHT * effective;
}
