import type { ActionOutcome } from '../actions/decision-engine';
import type { ActionDeps } from '../actions/deps';
import type { AgentRepository } from '../agents/ports';
import type { Agent, ChannelType } from '../agents/schemas';
import type { BillingDeps } from '../billing/billing';
import type { Conversation, ConversationRepository } from '../conversations/conversations';
import {
  CHANNEL_ADDRESS_KIND,
  type Customer,
  type CustomerRepository,
  normaliseAddress,
} from '../conversations/customers';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { requestFingerprint } from '../shared/fingerprint';
import type { Principal } from '../shared/principal';
import type { HttpGetPort, MemorySearchPort } from '../tools/registry';
import { chatResult, runChatTurn, type StepAllowances, toolDeps, turnDeadline } from './chat-turn';
import type {
  Continuation,
  Execution,
  ExecutionQueue,
  ExecutionRepository,
  ExecutionStatus,
  IdempotencyClaim,
} from './executions';
import type { ModelProvider } from './model';
import { runTurn } from './turn';
import type { TurnEventSink } from './turn-events';
import {
  abandonDeferred,
  failedTurnError,
  finish,
  newExecution,
  toolRunsOf,
  wasDeferred,
  withStatus,
} from './turn-records';

export interface RuntimeDeps {
  readonly agents: AgentRepository;
  readonly customers: CustomerRepository;
  readonly conversations: ConversationRepository;
  readonly executions: ExecutionRepository;
  readonly models: { get(provider: string): ModelProvider };
  readonly memory: MemorySearchPort;
  readonly http: HttpGetPort;
  readonly queue: ExecutionQueue;
  /** Model calls are paid for in tokens: reserved before a turn, settled (or released) after. */
  readonly billing: BillingDeps;
  /**
   * The decision engine's dependencies: actions the model proposes go through it. Absent, the
   * agent is offered no actions (its read-only tools only).
   */
  readonly actions?: ActionDeps;
  readonly now: () => Date;
  readonly log?: { error(message: string, extra: Record<string, unknown>): void };
  /**
   * What a model call and a tool round are expected to take, for turns under a deadline, before one
   * has been timed in the turn (default `DEFAULT_STEP_ALLOWANCES`).
   */
  readonly stepAllowances?: StepAllowances;
  /**
   * Where chat turns tell their watchers what happens (thinking, streamed text, tool runs,
   * decided actions, approvals requested, the reply or the error). Default: nobody watches.
   */
  readonly events?: TurnEventSink;
}

export { DEFAULT_STEP_ALLOWANCES, type StepAllowances } from './chat-turn';

export { TURN_DEADLINE_EXCEEDED } from './turn-records';

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

export interface TaskInput {
  readonly task: string;
  readonly context?: Record<string, unknown>;
  readonly async: boolean;
  /**
   * A synchronous task's deadline (epoch ms): one that cannot finish by then is recorded, queued
   * and answered PENDING (as an async one is), and goes on in the queue from where it stopped.
   */
  readonly deadline?: number;
}

/** Paused, stopped, draft or errored agents do not answer; the reason says which. */
async function answeringAgent(deps: RuntimeDeps, tenantId: string, agentId: string): Promise<Agent> {
  const agent = await deps.agents.get(tenantId, agentId);
  if (!agent) {
    if (await deps.agents.isDeleted(tenantId, agentId)) {
      throw new ConflictError(`Agent ${agentId} was deleted; it no longer answers`, { status: 'deleted' });
    }
    throw new NotFoundError('Agent', agentId);
  }
  if (agent.status !== 'active') {
    throw new ConflictError(`Agent ${agentId} is ${agent.status}; only an active agent answers`, {
      status: agent.status,
    });
  }
  return agent;
}

async function customerFor(deps: RuntimeDeps, principal: Principal, input: ChatInput): Promise<Customer> {
  const kind = CHANNEL_ADDRESS_KIND[input.channel];
  const given = input.customer ?? {};
  const raw =
    kind === 'phone'
      ? given.phone
      : kind === 'email'
        ? given.email
        : // A web chat without a customer is the signed-in user trying their agent.
          (given.externalId ?? (kind === 'web' ? `user:${principal.userId}` : undefined));
  if (!raw) {
    const field = kind === 'phone' ? 'phone' : kind === 'email' ? 'email' : 'externalId';
    throw ValidationError.forField(`body.customer.${field}`, `is required on the ${input.channel} channel`);
  }
  return deps.customers.resolve(principal.tenantId, { kind, value: normaliseAddress(kind, raw) }, given.name);
}

/**
 * The conversation a turn belongs to: the one named (it must be this agent's), or the one for
 * (agent, channel, customer), opened on first contact.
 */
async function conversationFor(
  deps: RuntimeDeps,
  principal: Principal,
  agent: Agent,
  input: ChatInput,
): Promise<{ conversation: Conversation; customer: Customer }> {
  if (input.conversationId !== undefined) {
    const conversation = await deps.conversations.get(principal.tenantId, input.conversationId);
    if (!conversation || conversation.agentId !== agent.id) {
      throw new NotFoundError('Conversation', input.conversationId);
    }
    const customer = await deps.customers.get(principal.tenantId, conversation.customerId);
    if (!customer) throw new NotFoundError('Customer', conversation.customerId);
    return { conversation, customer };
  }
  if (input.channel !== 'web' && !agent.channels.some((c) => c.type === input.channel && c.enabled)) {
    throw new ConflictError(`The ${input.channel} channel is not enabled on agent ${agent.id}`);
  }
  const customer = await customerFor(deps, principal, input);
  const conversation = await deps.conversations.open(
    principal.tenantId,
    agent.id,
    input.channel,
    customer.id,
  );
  return { conversation, customer };
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

/** The idempotency claim of a request: its key, and the fingerprint of what it asks. */
function claimOf(key: string | undefined, operation: string, request: unknown): IdempotencyClaim | undefined {
  return key === undefined ? undefined : { key, fingerprint: requestFingerprint(operation, request) };
}

/**
 * A key sent again with a different request is a client bug: refused (409), never answered with
 * the first request's outcome. Claims stored before fingerprints were are taken as the same.
 */
function checkSameRequest(claimed: IdempotencyClaim | undefined, stored: string | undefined): void {
  if (claimed && stored !== undefined && stored !== claimed.fingerprint) {
    throw new ConflictError(`idempotency-key: ${claimed.key} was already used for a different request`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
  }
}

/** A request already answered under an idempotency key: its execution and the fingerprint stored. */
interface Earlier {
  readonly execution: Execution;
  readonly fingerprint?: string;
}

/**
 * A retry may find the agent paused or the conversation handed over since its first request (an
 * emergency stop, an escalation in that very turn): a 409 for a new request, but a request already
 * answered under this key gets its recorded outcome instead.
 */
async function checkedOrEarlier<T>(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  claim: IdempotencyClaim | undefined,
  checks: () => Promise<T>,
): Promise<{ checked: T } | { earlier: Earlier }> {
  try {
    return { checked: await checks() };
  } catch (error) {
    if (!claim || !(error instanceof ConflictError)) throw error;
    const earlier = await deps.executions.findByIdempotencyKey(principal.tenantId, agentId, claim.key);
    if (!earlier) throw error;
    return { earlier };
  }
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

/**
 * Runs a PENDING task (fresh, or deferred earlier: then from its checkpoint). Under a deadline a
 * task that runs out of time is recorded PENDING again and queued, like a chat turn.
 */
async function runTask(
  deps: RuntimeDeps,
  agent: Agent,
  execution: Execution,
  options: { readonly deadline?: number; readonly resume?: Continuation } = {},
): Promise<Execution> {
  const at = deps.now().toISOString();
  if (!(await deps.executions.start(execution.tenantId, execution.id, at))) {
    return (await deps.executions.get(execution.tenantId, execution.id)) ?? execution;
  }
  const running = withStatus(execution, 'RUNNING', at);
  const deadline = turnDeadline(deps, options.deadline);
  const {
    execution: finished,
    failure,
    deferred,
  } = await finish(
    deps,
    agent,
    running,
    () =>
      runTurn(
        {
          model: deps.models.get(agent.model.provider),
          tools: toolDeps(deps),
          ...(deadline ? { deadline } : {}),
        },
        {
          agent,
          history: [],
          userText: execution.input.task ?? '',
          ...(execution.input.context ? { taskContext: execution.input.context } : {}),
          ...(options.resume ? { resume: options.resume.turn } : {}),
        },
      ),
    (completed, result, doneAt) =>
      deps.executions.complete({
        execution: completed,
        toolRuns: toolRunsOf(completed, result.toolRuns, doneAt),
      }),
  );
  if (deferred) await deps.queue.enqueue({ tenantId: finished.tenantId, executionId: finished.id });
  return taskOutcome(finished, failure);
}

/**
 * A task refused (for want of tokens: 402, like chat) answers with that error, the first time
 * and on a replay; any other task is answered with its execution, FAILED ones included.
 */
function taskOutcome(execution: Execution, first?: AppError): Execution {
  if (execution.status !== 'FAILED') return execution;
  const refused = failedTurnError(execution, first);
  if (refused.statusCode < 500) throw refused;
  return execution;
}

/**
 * A task for the agent. Synchronous: runs now and returns the finished execution (FAILED with
 * its reason when the model fails). Asynchronous: stored PENDING, queued, and returned at once.
 */
export async function executeTask(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  input: TaskInput,
  idempotencyKey?: string,
): Promise<Execution> {
  const { deadline, ...request } = input;
  const claim = claimOf(idempotencyKey, 'task', { agentId, input: request });
  const checked = await checkedOrEarlier(deps, principal, agentId, claim, () =>
    answeringAgent(deps, principal.tenantId, agentId),
  );
  if ('earlier' in checked) {
    checkSameRequest(claim, checked.earlier.fingerprint);
    return taskOutcome(checked.earlier.execution);
  }
  const agent = checked.checked;
  const at = deps.now().toISOString();
  const { execution, created, fingerprint } = await deps.executions.create(
    newExecution(
      principal,
      agent,
      { kind: 'task', input: { task: input.task, ...(input.context ? { context: input.context } : {}) } },
      at,
    ),
    claim,
  );
  if (!created) {
    checkSameRequest(claim, fingerprint);
    return taskOutcome(execution);
  }
  if (input.async) {
    await deps.queue.enqueue({ tenantId: principal.tenantId, executionId: execution.id });
    return execution;
  }
  return runTask(deps, agent, execution, deadline !== undefined ? { deadline } : {});
}

/** The queue worker's use case: run a queued task once, however often its message is delivered. */
export async function processQueuedExecution(
  deps: RuntimeDeps,
  tenantId: string,
  executionId: string,
  /** When this worker must have stopped (epoch ms): a turn out of time is queued again. */
  deadline?: number,
): Promise<void> {
  const execution = await deps.executions.get(tenantId, executionId);
  if (execution?.status !== 'PENDING') return;
  const agent = await deps.agents.get(tenantId, execution.agentId);
  if (wasDeferred(execution)) {
    if (agent?.status !== 'active') {
      await abandonDeferred(deps, execution, {
        code: 'AGENT_UNAVAILABLE',
        message: `Agent ${execution.agentId} is ${agent ? agent.status : 'deleted'}`,
      });
      return;
    }
    if (execution.kind === 'task') await resumeDeferredTask(deps, agent, execution, deadline);
    else await resumeDeferredChat(deps, agent, execution, deadline);
    return;
  }
  if (agent?.status !== 'active') {
    const at = deps.now().toISOString();
    if (await deps.executions.start(tenantId, executionId, at)) {
      await deps.executions.fail(
        withStatus(withStatus(execution, 'RUNNING', at), 'FAILED', at, {
          error: {
            code: 'AGENT_UNAVAILABLE',
            message: `Agent ${execution.agentId} is ${agent ? agent.status : 'deleted'}`,
          },
        }),
        [],
      );
    }
    return;
  }
  try {
    await runTask(deps, agent, execution, deadline !== undefined ? { deadline } : {});
  } catch (error) {
    // Refused for want of tokens: the execution already says FAILED and why; redelivery cannot help.
    if (error instanceof AppError && error.statusCode === 402) return;
    throw error;
  }
}

/**
 * Goes on with a chat turn that ran out of time, from its checkpoint: what ran before is not run
 * again, its tokens were reserved by its first part and are settled once, at the end. Running out
 * of time again queues it again. A failure is recorded in the execution, which is what its
 * caller polls or is told about: it is not thrown (a redelivery could not help).
 */
async function resumeDeferredChat(
  deps: RuntimeDeps,
  agent: Agent,
  execution: Execution,
  deadline: number | undefined,
): Promise<void> {
  const { tenantId } = execution;
  const [continuation, conversation, customer] = await Promise.all([
    deps.executions.continuation(tenantId, execution.id),
    execution.conversationId ? deps.conversations.get(tenantId, execution.conversationId) : undefined,
    execution.customerId ? deps.customers.get(tenantId, execution.customerId) : undefined,
  ]);
  if (execution.kind !== 'chat' || !continuation || !conversation || !customer) {
    await abandonDeferred(deps, execution, {
      code: 'TURN_NOT_RESUMABLE',
      message: !continuation
        ? 'The checkpoint of the deferred turn is gone'
        : 'The conversation of the deferred turn is gone',
    });
    return;
  }
  const at = deps.now().toISOString();
  if (!(await deps.executions.start(tenantId, execution.id, at))) return;
  try {
    await runChatTurn(
      deps,
      { tenantId, userId: execution.createdBy },
      agent,
      withStatus(execution, 'RUNNING', at),
      {
        conversation,
        customer,
        history: [],
        ...(continuation.locationId ? { locationId: continuation.locationId } : {}),
        ...(deadline !== undefined ? { deadline } : {}),
        onDeadline: 'queue',
        resume: { continuation, actions: execution.output?.actions ?? [] },
      },
    );
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
  }
}

/** A task that ran out of time goes on from its checkpoint (see `resumeDeferredChat`). */
async function resumeDeferredTask(
  deps: RuntimeDeps,
  agent: Agent,
  execution: Execution,
  deadline: number | undefined,
): Promise<void> {
  const continuation = await deps.executions.continuation(execution.tenantId, execution.id);
  if (!continuation) {
    await abandonDeferred(deps, execution, {
      code: 'TURN_NOT_RESUMABLE',
      message: 'The checkpoint of the deferred turn is gone',
    });
    return;
  }
  try {
    await runTask(deps, agent, execution, {
      resume: continuation,
      ...(deadline !== undefined ? { deadline } : {}),
    });
  } catch (error) {
    // Recorded in the execution (a refusal for want of tokens too): a redelivery cannot help.
    if (!(error instanceof AppError)) throw error;
  }
}

export async function getExecution(
  deps: Pick<RuntimeDeps, 'executions'>,
  principal: Principal,
  executionId: string,
) {
  const execution = await deps.executions.get(principal.tenantId, executionId);
  if (!execution) throw new NotFoundError('Execution', executionId);
  return execution;
}

export async function listExecutions(
  deps: Pick<RuntimeDeps, 'executions' | 'agents'>,
  principal: Principal,
  agentId: string,
  filter: { status?: ExecutionStatus; limit: number; cursor?: string },
) {
  if (!(await deps.agents.get(principal.tenantId, agentId))) throw new NotFoundError('Agent', agentId);
  return deps.executions.listByAgent(principal.tenantId, agentId, filter);
}
