import { actionSpecOf, isActionName } from '../actions/catalog';
import { type ActingContext, type ActionOutcome, openActionGate } from '../actions/decision-engine';
import type { Agent } from '../agents/schemas';
import type { Conversation, Message } from '../conversations/conversations';
import type { Customer } from '../conversations/customers';
import { AppError, ForbiddenError, ValidationError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { actingUserOf } from '../tenants/acting-user';
import type { ToolRunResult } from '../tools/registry';
import type { ChatResult, DeferredChat } from './chat';
import type { Continuation, Execution } from './executions';
import type { RuntimeDeps } from './runtime-deps';
import { runTurn, type TurnActions, type TurnDeadline, TurnFailure } from './turn';
import { NO_TURN_EVENTS, publishTurnEvent, type TurnEvent, type TurnEventScope } from './turn-events';
import { failedTurnError, finish, TURN_DEADLINE_EXCEEDED, toolRunsOf } from './turn-records';

/**
 * Running one chat turn of a RUNNING execution, fresh or resumed from a checkpoint: the decision
 * engine acting for the user, the turn under its deadline, what it tells its watchers, and how it
 * is recorded (completed with its messages, failed, or handed to the execution queue).
 */
export interface StepAllowances {
  readonly modelCallMs: number;
  readonly toolRoundMs: number;
}

/** A real model's call rarely takes longer; tools are quicker (HTTP requests time out at 5 s). */
export const DEFAULT_STEP_ALLOWANCES: StepAllowances = { modelCallMs: 10_000, toolRoundMs: 5_000 };

export function toolDeps(deps: RuntimeDeps) {
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
  principal: Pick<Principal, 'tenantId' | 'userId' | 'acting'>,
  agent: Agent,
  turn: { conversationId?: string; customerId?: string; executionId: string; locationId?: string },
  earlier: readonly ActionOutcome[] = [],
  emit: (event: TurnEvent) => void = () => undefined,
): Promise<TurnActionsWithOutcomes> {
  const none = { outcomes: () => earlier };
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
  const gate = await openActionGate(actionDeps, context, earlier);
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
        emit({
          type: 'agent_action',
          action: outcome.action,
          ...(outcome.actionId ? { actionId: outcome.actionId } : {}),
          level: outcome.level ?? 'denied',
          outcome: outcome.status,
        });
        if (outcome.status === 'awaiting_approval' && outcome.approvalId) {
          emit({ type: 'approval_requested', approvalId: outcome.approvalId, action: outcome.action });
        }
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

export function chatResult(execution: Execution): ChatResult {
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

export interface ChatTurnOptions {
  readonly conversation: Conversation;
  readonly customer: Customer;
  readonly history: readonly Message[];
  readonly locationId?: string;
  readonly deadline?: number;
  readonly onDeadline: 'queue' | 'stop';
  /** Go on from here: a turn deferred earlier, with the actions it decided then. */
  readonly resume?: { readonly continuation: Continuation; readonly actions: readonly ActionOutcome[] };
}

/** How long a turn under `deadline` may take, and what its steps are expected to take. */
export function turnDeadline(deps: RuntimeDeps, deadline: number | undefined): TurnDeadline | undefined {
  if (deadline === undefined) return undefined;
  return { at: deadline, ...(deps.stepAllowances ?? DEFAULT_STEP_ALLOWANCES) };
}

/**
 * A RUNNING chat execution's turn, fresh or resumed, recorded: completed (its messages stored with
 * it), failed, or — out of time — deferred to the execution queue or stopped, as the caller chose.
 */
export async function runChatTurn(
  deps: RuntimeDeps,
  principal: Pick<Principal, 'tenantId' | 'userId' | 'acting'>,
  agent: Agent,
  running: Execution,
  options: ChatTurnOptions,
): Promise<ChatResult | DeferredChat> {
  const { conversation, customer } = options;
  const message = running.input.message ?? '';
  const scope: TurnEventScope = {
    tenantId: running.tenantId,
    agentId: running.agentId,
    conversationId: conversation.id,
    executionId: running.id,
  };
  const emit = (event: TurnEvent) => publishTurnEvent(deps.events, scope, event, deps.log);
  // Set once the acting user is read, inside the turn: whatever fails from there on is recorded.
  let actionOutcomes: () => readonly ActionOutcome[] = () => options.resume?.actions ?? [];
  const {
    execution: done,
    failure,
    deferred,
  } = await finish(
    deps,
    agent,
    running,
    async () => {
      const actions = await actionsForTurn(
        deps,
        principal,
        agent,
        {
          conversationId: conversation.id,
          customerId: customer.id,
          executionId: running.id,
          ...(options.locationId ? { locationId: options.locationId } : {}),
        },
        options.resume?.actions ?? [],
        emit,
      );
      actionOutcomes = actions.outcomes;
      const deadline = turnDeadline(deps, options.deadline);
      const result = await runTurn(
        {
          model: deps.models.get(agent.model.provider),
          tools: toolDeps(deps),
          ...(actions.turnActions ? { actions: actions.turnActions } : {}),
          ...(deadline ? { deadline } : {}),
          ...(deps.events && deps.events !== NO_TURN_EVENTS ? { emit } : {}),
        },
        {
          agent,
          customer,
          history: options.history,
          ...(conversation.summary ? { summary: conversation.summary } : {}),
          userText: message,
          ...(running.input.context ? { taskContext: running.input.context } : {}),
          ...(options.resume ? { resume: options.resume.continuation.turn } : {}),
        },
      );
      if (result.deferred && options.onDeadline === 'stop') {
        throw new TurnFailure(
          new AppError(
            504,
            TURN_DEADLINE_EXCEEDED,
            'The turn ran out of time; what it did is recorded and unused tokens are released',
          ),
          result.toolRuns,
          result.usage,
        );
      }
      return result;
    },
    async (completed, result, doneAt) => {
      const userMessage: Message = {
        id: `${completed.id}#1`,
        conversationId: conversation.id,
        role: 'user',
        content: message,
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
        // All the turn's tool calls: a resumed turn's earlier parts' too.
        ...(completed.toolCalls.length > 0
          ? { toolCalls: completed.toolCalls.map((call) => ({ name: call.name, status: call.status })) }
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
    options.locationId ? { locationId: options.locationId } : {},
  );
  if (failure) {
    const error = failedTurnError(done, failure);
    emit({ type: 'error', code: error.code, message: error.message });
    throw error;
  }
  if (deferred) {
    await deps.queue.enqueue({ tenantId: done.tenantId, executionId: done.id });
    return {
      deferred: true,
      executionId: done.id,
      conversationId: conversation.id,
      customerId: customer.id,
      status: 'PENDING',
    };
  }
  emit({ type: 'agent_message', text: done.output?.reply ?? '', messageId: `${done.id}#2` });
  return chatResult(done);
}
