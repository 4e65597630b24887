import { actionSpecOf, isActionName } from '../actions/catalog';
import { type ActingContext, type ActionOutcome, openActionGate } from '../actions/decision-engine';
import type { ActionDeps } from '../actions/deps';
import type { AgentRepository } from '../agents/ports';
import type { Agent, ChannelType } from '../agents/schemas';
import type { BillingDeps } from '../billing/billing';
import type { Conversation, ConversationRepository, Message } from '../conversations/conversations';
import {
  CHANNEL_ADDRESS_KIND,
  type Customer,
  type CustomerRepository,
  normaliseAddress,
} from '../conversations/customers';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors';
import { requestFingerprint } from '../shared/fingerprint';
import type { Principal } from '../shared/principal';
import { actingUserOf } from '../tenants/acting-user';
import type { HttpGetPort, MemorySearchPort, ToolRunResult } from '../tools/registry';
import type {
  Execution,
  ExecutionQueue,
  ExecutionRepository,
  ExecutionStatus,
  IdempotencyClaim,
} from './executions';
import type { ModelProvider } from './model';
import { runTurn, type TurnActions } from './turn';
import { failedTurnError, finish, newExecution, toolRunsOf, withStatus } from './turn-records';

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
}

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

export interface ChatOptions {
  /**
   * Epoch milliseconds: the turn starts no model call or tool past it and fails TURN_TIMED_OUT
   * (504), recorded, its unused tokens released (voice turns run against the caller's patience).
   */
  readonly deadline?: number;
}

export interface TaskInput {
  readonly task: string;
  readonly context?: Record<string, unknown>;
  readonly async: boolean;
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

function toolDeps(deps: RuntimeDeps) {
  return { memory: deps.memory, http: deps.http, now: deps.now };
}

/** Statuses after which the action is under way: the model hears it as a tool that worked. */
const UNDER_WAY = new Set(['executed', 'executing', 'awaiting_confirmation', 'awaiting_approval']);

interface TurnActionsWithOutcomes {
  readonly turnActions?: TurnActions;
  readonly outcomes: () => readonly ActionOutcome[];
}

/**
 * The decision engine for one turn, acting for the signed-in user: their grants and locations
 * bound what the agent may do. Agents without actions skip it (and its reads) entirely.
 */
async function actionsForTurn(
  deps: RuntimeDeps,
  principal: Principal,
  agent: Agent,
  turn: { conversationId?: string; customerId?: string; executionId: string; locationId?: string },
): Promise<TurnActionsWithOutcomes> {
  const none = { outcomes: () => [] };
  const actionDeps = deps.actions;
  if (!actionDeps || !agent.tools.some(isActionName)) return none;
  const user = await actingUserOf(actionDeps.users, principal);
  if (!user) throw new ForbiddenError('Your user no longer exists in this tenant');
  if (
    turn.locationId !== undefined &&
    user.locationIds.length > 0 &&
    !user.locationIds.includes(turn.locationId)
  ) {
    throw ValidationError.forField('body.locationId', 'is not one of your locations');
  }
  const locationId = turn.locationId ?? (user.locationIds.length === 1 ? user.locationIds[0] : undefined);
  const context: ActingContext = {
    tenantId: principal.tenantId,
    agent,
    actor: { userId: user.id, role: user.role, grants: user.grants, locationIds: user.locationIds },
    executionId: turn.executionId,
    ...(locationId ? { locationId } : {}),
    ...(turn.conversationId ? { conversationId: turn.conversationId } : {}),
    ...(turn.customerId ? { customerId: turn.customerId } : {}),
  };
  const gate = await openActionGate(actionDeps, context);
  if (gate.offered.length === 0) return none;
  const names = new Set<string>(gate.offered.map((definition) => definition.name));
  return {
    outcomes: () => gate.outcomes,
    turnActions: {
      specs: gate.offered.map(actionSpecOf),
      has: (name) => names.has(name),
      propose: async (name, input): Promise<ToolRunResult> => {
        const started = performance.now();
        const outcome = await gate.propose(name, input);
        const underWay = UNDER_WAY.has(outcome.status);
        return {
          name,
          input,
          status: underWay ? 'succeeded' : 'failed',
          output: outcome,
          ...(underWay ? {} : { error: outcome.error?.message ?? outcome.reason }),
          durationMs: Math.round((performance.now() - started) * 100) / 100,
        };
      },
    },
  };
}

function chatResult(execution: Execution): ChatResult {
  return {
    executionId: execution.id,
    conversationId: execution.conversationId ?? '',
    customerId: execution.customerId ?? '',
    reply: execution.output?.reply ?? '',
    toolCalls: execution.toolCalls,
    usage: execution.usage,
    costUsd: execution.costUsd,
    latencyMs: execution.latencyMs ?? 0,
    actions: execution.output?.actions ?? [],
  };
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
  input: ChatInput,
  idempotencyKey?: string,
  options: ChatOptions = {},
): Promise<ChatResult> {
  const claim = claimOf(idempotencyKey, 'chat', { agentId, input });
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
  // Set once the acting user is read, inside the turn: whatever fails from there on is recorded.
  let actionOutcomes: () => readonly ActionOutcome[] = () => [];
  const { execution: done, failure } = await finish(
    deps,
    agent,
    running,
    async () => {
      const actions = await actionsForTurn(deps, principal, agent, {
        conversationId: conversation.id,
        customerId: customer.id,
        executionId: running.id,
        ...(input.locationId ? { locationId: input.locationId } : {}),
      });
      actionOutcomes = actions.outcomes;
      return runTurn(
        {
          model: deps.models.get(agent.model.provider),
          tools: toolDeps(deps),
          ...(actions.turnActions ? { actions: actions.turnActions } : {}),
          ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
        },
        {
          agent,
          customer,
          history,
          ...(conversation.summary ? { summary: conversation.summary } : {}),
          userText: input.message,
          ...(input.context ? { taskContext: input.context } : {}),
        },
      );
    },
    async (completed, result, doneAt) => {
      const userMessage: Message = {
        id: `${completed.id}#1`,
        conversationId: conversation.id,
        role: 'user',
        content: input.message,
        executionId: completed.id,
        createdAt: running.createdAt,
      };
      const reply: Message = {
        id: `${completed.id}#2`,
        conversationId: conversation.id,
        role: 'assistant',
        content: result.reply,
        executionId: completed.id,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        ...(result.toolRuns.length > 0
          ? { toolCalls: result.toolRuns.map((r) => ({ name: r.name, status: r.status })) }
          : {}),
        createdAt: doneAt,
      };
      await deps.executions.complete({
        execution: completed,
        messages: [userMessage, reply],
        conversation,
        ...(actionOutcomes().some((a) => a.action === 'escalate' && a.status === 'executed')
          ? { handedOver: true }
          : {}),
        ...(result.summary ? { summary: result.summary } : {}),
        toolRuns: toolRunsOf(completed, result.toolRuns, doneAt),
      });
    },
    () => actionOutcomes(),
  );
  if (failure) throw failedTurnError(done, failure);
  return chatResult(done);
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
): ChatResult {
  checkSameRequest(claimed, storedFingerprint);
  if (execution.status === 'COMPLETED') return chatResult(execution);
  if (execution.status === 'FAILED') throw failedTurnError(execution);
  throw new ConflictError(
    `A request with this idempotency key is ${execution.status.toLowerCase()} (execution ${execution.id})`,
    {
      executionId: execution.id,
      status: execution.status,
    },
  );
}

async function runTask(deps: RuntimeDeps, agent: Agent, execution: Execution): Promise<Execution> {
  const at = deps.now().toISOString();
  if (!(await deps.executions.start(execution.tenantId, execution.id, at))) {
    return (await deps.executions.get(execution.tenantId, execution.id)) ?? execution;
  }
  const running = withStatus(execution, 'RUNNING', at);
  const { execution: finished, failure } = await finish(
    deps,
    agent,
    running,
    () =>
      runTurn(
        { model: deps.models.get(agent.model.provider), tools: toolDeps(deps) },
        {
          agent,
          history: [],
          userText: execution.input.task ?? '',
          ...(execution.input.context ? { taskContext: execution.input.context } : {}),
        },
      ),
    (completed, result, doneAt) =>
      deps.executions.complete({
        execution: completed,
        toolRuns: toolRunsOf(completed, result.toolRuns, doneAt),
      }),
  );
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
  const claim = claimOf(idempotencyKey, 'task', { agentId, input });
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
  return runTask(deps, agent, execution);
}

/** The queue worker's use case: run a queued task once, however often its message is delivered. */
export async function processQueuedExecution(
  deps: RuntimeDeps,
  tenantId: string,
  executionId: string,
): Promise<void> {
  const execution = await deps.executions.get(tenantId, executionId);
  if (execution?.status !== 'PENDING') return;
  const agent = await deps.agents.get(tenantId, execution.agentId);
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
    await runTask(deps, agent, execution);
  } catch (error) {
    // Refused for want of tokens: the execution already says FAILED and why; redelivery cannot help.
    if (error instanceof AppError && error.statusCode === 402) return;
    throw error;
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
