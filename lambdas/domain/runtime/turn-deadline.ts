/**
 * A turn's deadline: when it must have stopped, and the clock that tells whether its next step
 * still fits before then.
 */

/**
 * When a turn must have stopped, and what its steps are expected to take. Before each model call
 * and each tool round the turn checks that the step fits in the time left; one that does not is
 * not started: the turn stops there, with a checkpoint to go on from.
 */
export interface TurnDeadline {
  /** Epoch milliseconds. */
  readonly at: number;
  /** What a model call is expected to take before one has been timed in this turn. */
  readonly modelCallMs: number;
  /** What a round of tool runs is expected to take before one has been timed in this turn. */
  readonly toolRoundMs: number;
  /** The clock (epoch ms); Date.now unless a test gives another. */
  readonly now?: () => number;
  /**
   * How long past `at` a model call already under way may still run before it is abandoned (its
   * answer would come too late to record); the turn then stops as if the call had not started.
   * Default `CALL_GRACE_MS`.
   */
  readonly graceMs?: number;
}

/** Within the margin a caller leaves between the deadline and being cut off (3 s over HTTP). */
export const CALL_GRACE_MS = 1_500;

/**
 * Whether the next step fits before the deadline: the longest step of its kind timed in this turn,
 * or the configured allowance before one has been.
 */
export class StepClock {
  private readonly longest = { modelCall: 0, toolRound: 0 };
  constructor(private readonly deadline: TurnDeadline | undefined) {}

  now(): number {
    return this.deadline?.now?.() ?? Date.now();
  }

  fits(step: 'modelCall' | 'toolRound'): boolean {
    if (!this.deadline) return true;
    const allowance = step === 'modelCall' ? this.deadline.modelCallMs : this.deadline.toolRoundMs;
    return this.now() + (this.longest[step] || allowance) <= this.deadline.at;
  }

  async timed<T>(step: 'modelCall' | 'toolRound', run: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await run();
    } finally {
      this.longest[step] = Math.max(this.longest[step], this.now() - started);
    }
  }
}
