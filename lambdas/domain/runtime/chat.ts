import type { ActionOutcome } from '../actions/decision-engine';
import type { ChannelType } from '../agents/schemas';
import { ConflictError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { chatResult, runChatTurn } from './chat-turn';
import type { Execution, IdempotencyClaim } from './executions';
import { checkedOrEarlier, checkSameRequest, claimOf } from './idempotent-requests';
import type { RuntimeDeps } from './runtime-deps';
import { answeringAgent, conversationFor } from './turn-context';
import { failedTurnError, newExecution, withStatus } from './turn-records';

/** The chat use case: one synchronous turn of a conversation, or its replay under the same key. */

export interface ChatInput {
  readonly message: string;
  readonly channel: ChannelType;
  readonly customer?: {
    readonly phone?: string;
    readonly email?: string;
    readonly externalId?: string;
    readonly name?: string;
  };
  /** Facts for this turn only (order id, page the user is on, ...), shown to the model. */
  readonly context?: Record<string, unknown>;
  /** Continue this conversation (its channel and customer) instead of resolving one. */
  readonly conversationId?: string;
  /** Where the acting user is acting; must be one of theirs. */
  readonly locationId?: string;
  /**
   * When the turn must have stopped (epoch ms). A step that would not finish by then is not
   * started; what happens instead is `onDeadline`'s.
   */
  readonly deadline?: number;
  /**
   * `queue` (default): what ran is recorded, the execution goes back to PENDING and onto the
   * execution queue, which goes on from where it stopped; the answer is a `DeferredChat`.
   * `stop`: the execution fails with TURN_DEADLINE_EXCEEDED and unused tokens are released
   * (voice: a caller on the line cannot wait for the queue).
   */
  readonly onDeadline?: 'queue' | 'stop';
}

/** A turn that ran out of time and goes on in the execution queue: poll or subscribe to it. */
export interface DeferredChat {
  readonly deferred: true;
  readonly executionId: string;
  readonly conversationId: string;
  readonly customerId: string;
  readonly status: 'PENDING';
}

export function isDeferredChat(outcome: ChatResult | DeferredChat): outcome is DeferredChat {
  return 'deferred' in outcome;
}

export interface ChatResult {
  readonly executionId: string;
  readonly conversationId: string;
  readonly customerId: string;
  readonly reply: string;
  readonly toolCalls: Execution['toolCalls'];
  readonly usage: Execution['usage'];
  readonly costUsd: number;
  readonly latencyMs: number;
  /** Per proposed action: what was decided, why, and what came of it. */
  readonly actions: readonly ActionOutcome[];
}

/**
 * A synchronous chat turn. The conversation only ever holds complete turns: the customer's
 * message and the reply are stored together with the completed execution, or not at all.
 * The same idempotency key again returns the first turn's result and stores nothing.
 */
export async function chat(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  input: ChatInput & { readonly deadline?: undefined },
  idempotencyKey?: string,
): Promise<ChatResult>;
export async function chat(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  input: ChatInput,
  idempotencyKey?: string,
): Promise<ChatResult | DeferredChat>;
export async function chat(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  input: ChatInput,
  idempotencyKey?: string,
): Promise<ChatResult | DeferredChat> {
  // What is asked, not when it must be answered by: a retry carries a later deadline.
  const { deadline: _deadline, onDeadline: _onDeadline, ...request } = input;
  const claim = claimOf(idempotencyKey, 'chat', { agentId, input: request });
  const checked = await checkedOrEarlier(deps, principal, agentId, claim, async () => {
    const agent = await answeringAgent(deps, principal.tenantId, agentId);
    const { conversation, customer } = await conversationFor(deps, principal, agent, input);
    if (conversation.status === 'paused' || conversation.status === 'handoff') {
      throw new ConflictError(
        conversation.status === 'handoff'
          ? `Conversation ${conversation.id} is handed off to a person, who answers it; POST /v1/conversations/${conversation.id}/resume-agent hands it back to the agent`
          : `Conversation ${conversation.id} is paused; a person is handling it`,
        { status: conversation.status },
      );
    }
    return { agent, conversation, customer };
  });
  if ('earlier' in checked) return replay(checked.earlier.execution, claim, checked.earlier.fingerprint);
  const { agent, conversation, customer } = checked.checked;
  const at = deps.now().toISOString();
  // A synchronous turn starts the moment it is recorded: it is stored RUNNING (its history
  // still shows PENDING → RUNNING), which saves a round trip; queued tasks start separately.
  const [{ execution, created, fingerprint }, history] = await Promise.all([
    deps.executions.create(
      withStatus(
        newExecution(
          principal,
          agent,
          {
            kind: 'chat',
            input: { message: input.message, ...(input.context ? { context: input.context } : {}) },
            channel: conversation.channel,
            conversationId: conversation.id,
            customerId: customer.id,
          },
          at,
        ),
        'RUNNING',
        at,
      ),
      claim,
    ),
    deps.conversations.recentMessages(
      principal.tenantId,
      conversation.id,
      50,
      conversation.summarizedThrough,
    ),
  ]);
  if (!created) return replay(execution, claim, fingerprint);
  const running = execution;
  return runChatTurn(deps, principal, agent, running, {
    conversation,
    customer,
    history,
    ...(input.locationId ? { locationId: input.locationId } : {}),
    ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
    onDeadline: input.onDeadline ?? 'queue',
  });
}

/**
 * The same key again: the first turn's outcome, success or failure, and nothing run again; a
 * first turn still running is a 409.
 */
function replay(
  execution: Execution,
  claimed: IdempotencyClaim | undefined,
  storedFingerprint: string | undefined,
): ChatResult | DeferredChat {
  checkSameRequest(claimed, storedFingerprint);
  if (execution.status === 'COMPLETED') return chatResult(execution);
  if (execution.status === 'FAILED') throw failedTurnError(execution);
  // Handed to the execution queue (waiting or going on there): the retry is answered as the first was.
  const deferredBefore = execution.statusHistory.some(
    (entry, index) => entry.status === 'PENDING' && index > 0,
  );
  if (deferredBefore && execution.conversationId && execution.customerId) {
    return {
      deferred: true,
      executionId: execution.id,
      conversationId: execution.conversationId,
      customerId: execution.customerId,
      status: 'PENDING',
    };
  }
  throw new ConflictError(
    `A request with this idempotency key is ${execution.status.toLowerCase()} (execution ${execution.id})`,
    {
      executionId: execution.id,
      status: execution.status,
    },
  );
}
