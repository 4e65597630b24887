import type { Agent } from '../agents/schemas';
import type { Message } from '../conversations/conversations';
import type { Customer } from '../conversations/customers';
import { AppError } from '../shared/errors';
import type { ToolContext, ToolRunResult } from '../tools/registry';
import type { ModelMessage, ModelProvider, ModelUsage, ToolSpec } from './model';
import type { TurnDeadline } from './turn-deadline';
import type { TurnEvent } from './turn-events';

/** What one agent turn (`runTurn`) takes, what it gives back, and how it fails. */

export class TurnError extends AppError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

export interface TurnInput {
  readonly agent: Agent;
  /**
   * Go on from where an earlier part of this turn stopped for its deadline: its prompt, messages,
   * usage and round are taken from here (memories are not recalled again, nothing it ran runs again).
   */
  readonly resume?: TurnCheckpoint;
  readonly customer?: Customer;
  /** Unsummarised history, oldest first. */
  readonly history: readonly Message[];
  readonly summary?: string;
  readonly userText: string;
  readonly taskContext?: Record<string, unknown>;
}

/**
 * The actions the model may propose this turn. They are tools to the model, but a proposal goes
 * to the decision engine, which decides (and maybe runs) it; the model is told the outcome.
 */
export interface TurnActions {
  readonly specs: readonly ToolSpec[];
  has(name: string): boolean;
  propose(name: string, input: unknown): Promise<ToolRunResult>;
}

export interface TurnDeps {
  readonly model: ModelProvider;
  readonly tools: Omit<ToolContext, 'agent' | 'tenantId' | 'customerId'>;
  readonly actions?: TurnActions;
  /** Absent, the turn runs to its end however long that takes. */
  readonly deadline?: TurnDeadline;
  /**
   * Tells whoever watches the turn (bound to its scope by the caller; must not throw): thinking
   * before each model call, the reply's text as it streams, each tool run started and ended.
   * Given, the model is called streaming when its provider can.
   */
  readonly emit?: (event: TurnEvent) => void;
}

/**
 * Where a turn stopped for its deadline, all that is needed to go on from there (JSON data). When
 * the last message is the assistant's tool calls, their round has not run yet: it runs first.
 */
export interface TurnCheckpoint {
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  /** The round the next model call belongs to. */
  readonly round: number;
  /** Everything the turn used so far (all its parts). */
  readonly usage: TurnUsage;
  readonly summary?: { readonly text: string; readonly through: string };
}

export interface TurnUsage extends ModelUsage {
  readonly modelCalls: number;
}

export interface TurnResult {
  readonly reply: string;
  /** The tool runs of this part of the turn (a resumed turn's earlier runs are recorded already). */
  readonly toolRuns: readonly ToolRunResult[];
  /** Everything the turn used, earlier parts included. */
  readonly usage: TurnUsage;
  /** Set when older history was folded into the summary during this turn. */
  readonly summary?: { readonly text: string; readonly through: string };
  /** Set when the turn stopped for its deadline: it is not finished, and goes on from here. */
  readonly deferred?: TurnCheckpoint;
}

/** A turn that failed part-way still reports what it used and ran, for the execution record. */
export class TurnFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly toolRuns: readonly ToolRunResult[],
    readonly usage: TurnUsage,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}
