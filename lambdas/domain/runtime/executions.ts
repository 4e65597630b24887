import type { ActionOutcome } from '../actions/decision-engine';
import type { ChannelType } from '../agents/schemas';
import type { Conversation, Message } from '../conversations/conversations';
import type { Page } from '../shared/pagination';
import type { ToolRunResult } from '../tools/registry';
import type { TurnCheckpoint, TurnUsage } from './turn';

export const EXECUTION_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface ToolCallSummary {
  readonly name: string;
  readonly status: 'succeeded' | 'failed';
  readonly durationMs: number;
  readonly error?: string;
}

/** One run of an agent: a chat turn or a task. */
export interface Execution {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly kind: 'chat' | 'task';
  readonly status: ExecutionStatus;
  readonly input: {
    readonly message?: string;
    readonly task?: string;
    readonly context?: Record<string, unknown>;
  };
  readonly channel?: ChannelType;
  readonly conversationId?: string;
  readonly customerId?: string;
  readonly provider: string;
  readonly modelId: string;
  /** The reply, and what became of each action the model proposed. */
  readonly output?: { readonly reply: string; readonly actions?: readonly ActionOutcome[] };
  readonly toolCalls: readonly ToolCallSummary[];
  readonly usage: TurnUsage;
  readonly costUsd: number;
  /** False when the model is missing from the price table (cost then reads 0). */
  readonly priced: boolean;
  readonly latencyMs?: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly statusHistory: readonly { readonly status: ExecutionStatus; readonly at: string }[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ToolRun extends ToolRunResult {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly executionId: string;
  readonly createdAt: string;
}

export interface CompletedTurn {
  readonly execution: Execution;
  /** Present for chat turns: the user's message and the reply, stored with the completion. */
  readonly messages?: readonly [Message, Message];
  readonly conversation?: Conversation;
  /**
   * The turn handed the conversation to a person (an executed `escalate` paused it): its messages
   * are stored all the same and the conversation stays paused.
   */
  readonly handedOver?: boolean;
  readonly summary?: { readonly text: string; readonly through: string };
  readonly toolRuns: readonly ToolRun[];
}

export interface IdempotencyClaim {
  readonly key: string;
  /** `requestFingerprint` of what was asked: the same key with another request is a 409. */
  readonly fingerprint: string;
}

export interface ExecutionRepository {
  /**
   * Stores a new execution (PENDING, or RUNNING for a synchronous turn), claiming the idempotency
   * key (with the request's fingerprint) in the same transaction. With a key already used for this
   * agent, stores nothing and returns the execution that key created and the fingerprint stored
   * with it (absent for claims older than fingerprints), for the caller to tell a retry from a
   * different request.
   */
  create(
    execution: Execution,
    idempotency?: IdempotencyClaim,
  ): Promise<{ execution: Execution; created: boolean; fingerprint?: string }>;
  /** The execution an idempotency key of the agent created, with its request's fingerprint. */
  findByIdempotencyKey(
    tenantId: string,
    agentId: string,
    key: string,
  ): Promise<{ execution: Execution; fingerprint?: string } | undefined>;
  get(tenantId: string, executionId: string): Promise<Execution | undefined>;
  listByAgent(
    tenantId: string,
    agentId: string,
    filter: { status?: ExecutionStatus; limit: number; cursor?: string },
  ): Promise<Page<Execution>>;
  /** PENDING → RUNNING; false if someone else already took it (a redelivered queue message). */
  start(tenantId: string, executionId: string, at: string): Promise<boolean>;
  /**
   * RUNNING → COMPLETED in one transaction with everything the turn produced: the messages
   * (keyed by execution, so never stored twice), the conversation's counters and summary, the
   * agent's stats and the tool runs. Nothing of it is visible if any part fails.
   */
  complete(turn: CompletedTurn): Promise<void>;
  /**
   * RUNNING → PENDING: a turn stopped for its deadline (`execution` says what it did so far) with
   * the continuation to go on from, and the tool runs of the part that ran, in one transaction.
   * Only from RUNNING, so a part is recorded once; whoever `start`s it next goes on.
   */
  defer(execution: Execution, continuation: Continuation, toolRuns: readonly ToolRun[]): Promise<void>;
  /** The continuation a deferred execution goes on from (the latest one recorded). */
  continuation(tenantId: string, executionId: string): Promise<Continuation | undefined>;
  /** RUNNING → FAILED with the reason, the agent's failure count and the tool runs; no messages. */
  fail(execution: Execution, toolRuns: readonly ToolRun[]): Promise<void>;
  listToolRuns(
    tenantId: string,
    filter: { agentId?: string; tool?: string; limit: number; cursor?: string },
  ): Promise<Page<ToolRun>>;
}

/** What a deferred turn goes on from: where it stopped, and where its acting user acted. */
export interface Continuation {
  readonly turn: TurnCheckpoint;
  readonly locationId?: string;
}

/** Where async executions wait: SQS on AWS, an in-process queue in local mode. */
export interface ExecutionQueue {
  enqueue(message: { tenantId: string; executionId: string }): Promise<void>;
}
