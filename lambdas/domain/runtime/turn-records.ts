import type { ActionOutcome } from '../actions/decision-engine';
import type { Agent } from '../agents/schemas';
import { release, reserve, settle } from '../billing/billing';
import type { Reservation } from '../billing/ports';
import { AppError, messageOf } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import { toStorableJson } from '../shared/zod';
import type { Continuation, Execution, ExecutionStatus, ToolRun } from './executions';
import { costOf } from './pricing';
import type { RuntimeDeps } from './runtime-deps';
import { MAX_TOOL_ROUNDS, TurnFailure, type TurnResult } from './turn';

/**
 * What a turn leaves behind: its execution record (tool runs, actions, model usage), whatever
 * fails after it started, and the tokens its model calls reserve and settle.
 */
export function newExecution(
  principal: Principal,
  agent: Agent,
  fields: Pick<Execution, 'kind' | 'input'> &
    Partial<Pick<Execution, 'channel' | 'conversationId' | 'customerId'>>,
  at: string,
): Execution {
  return {
    id: newId('execution'),
    tenantId: principal.tenantId,
    agentId: agent.id,
    status: 'PENDING',
    provider: agent.model.provider,
    modelId: agent.model.modelId,
    toolCalls: [],
    usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
    costUsd: 0,
    priced: true,
    statusHistory: [{ status: 'PENDING', at }],
    createdBy: principal.userId,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

export function withStatus(
  execution: Execution,
  status: ExecutionStatus,
  at: string,
  extra: Partial<Execution> = {},
): Execution {
  return {
    ...execution,
    ...extra,
    status,
    updatedAt: at,
    statusHistory: [...execution.statusHistory, { status, at }],
  };
}

export function toolRunsOf(execution: Execution, runs: TurnResult['toolRuns'], at: string): ToolRun[] {
  return runs.map((run) => ({
    ...run,
    // What the model sent, as it sent it where the table can hold it (see `toStorableJson`).
    input: toStorableJson(run.input),
    id: newId('toolRun'),
    tenantId: execution.tenantId,
    agentId: execution.agentId,
    executionId: execution.id,
    createdAt: at,
  }));
}

function summaries(runs: TurnResult['toolRuns']): Execution['toolCalls'] {
  return runs.map((run) => ({
    name: run.name,
    status: run.status,
    durationMs: run.durationMs,
    ...(run.error ? { error: run.error } : {}),
  }));
}

/**
 * Runs the turn of a RUNNING execution and records the outcome, success or failure. Whatever
 * fails — the model, a tool, a port after an action ran, the completing write itself — the
 * execution is recorded FAILED with what the turn did (tool runs, the outcome of every action,
 * the model usage, which is charged), so the error can name it and a retry with the same
 * idempotency key replays it instead of running anything again.
 */
export async function finish(
  deps: RuntimeDeps,
  agent: Agent,
  execution: Execution,
  turn: () => Promise<TurnResult>,
  record: (done: Execution, result: TurnResult, at: string) => Promise<void>,
  actionOutcomes: () => readonly ActionOutcome[] = () => [],
  continuation: Omit<Continuation, 'turn'> = {},
): Promise<{ execution: Execution; failure?: AppError; deferred?: true }> {
  const started = performance.now();
  // A resumed turn's record already holds what its earlier parts ran and took.
  const latencyMs = () => (execution.latencyMs ?? 0) + Math.round(performance.now() - started);
  let reservation: Reservation | undefined;
  let result: TurnResult | undefined;
  try {
    // The same key every part of a turn: a resumed turn finds the reservation its first part made.
    reservation = await reserveModelCalls(deps, execution);
    result = await turn();
    const at = deps.now().toISOString();
    const cost = costOf(agent.model.modelId, result.usage.inputTokens, result.usage.outputTokens);
    if (result.deferred) {
      // Out of time: what ran so far is recorded, the tokens stay reserved for the rest.
      const paused = withStatus(execution, 'PENDING', at, {
        ...(actionOutcomes().length > 0 ? { output: { reply: '', actions: [...actionOutcomes()] } } : {}),
        toolCalls: [...execution.toolCalls, ...summaries(result.toolRuns)],
        usage: result.usage,
        costUsd: cost.usd,
        priced: cost.priced,
        latencyMs: latencyMs(),
      });
      await deps.executions.defer(
        paused,
        { ...continuation, turn: result.deferred },
        toolRunsOf(paused, result.toolRuns, at),
      );
      return { execution: paused, deferred: true };
    }
    const done = withStatus(execution, 'COMPLETED', at, {
      output: {
        reply: result.reply,
        ...(actionOutcomes().length > 0 ? { actions: [...actionOutcomes()] } : {}),
      },
      toolCalls: [...execution.toolCalls, ...summaries(result.toolRuns)],
      usage: result.usage,
      costUsd: cost.usd,
      priced: cost.priced,
      latencyMs: latencyMs(),
    });
    await record(done, result, at);
    await settleModelCalls(deps, execution, reservation, result.usage.modelCalls, cost.usd);
    return { execution: done };
  } catch (error) {
    // What the turn did: all of it when only its recording failed, or as far as it got.
    const partial = error instanceof TurnFailure ? error : undefined;
    const reason = partial ? partial.reason : error;
    const toolRuns = result?.toolRuns ?? partial?.toolRuns ?? [];
    const usage = result?.usage ?? partial?.usage ?? execution.usage;
    const actions = actionOutcomes();
    const at = deps.now().toISOString();
    const cost = costOf(agent.model.modelId, usage.inputTokens, usage.outputTokens);
    if (!(reason instanceof AppError)) {
      deps.log?.error('A turn failed unexpectedly', {
        executionId: execution.id,
        error: messageOf(reason),
        actionsDecided: actions.length,
      });
    }
    const failure =
      reason instanceof AppError
        ? reason
        : new AppError(
            500,
            TURN_FAILED,
            actions.length > 0
              ? 'The turn failed unexpectedly after its actions were decided; a retry with the same Idempotency-Key runs none of them again'
              : 'The turn failed unexpectedly',
          );
    const failed = withStatus(execution, 'FAILED', at, {
      ...(actions.length > 0 || result
        ? { output: { reply: result?.reply ?? '', actions: [...actions] } }
        : {}),
      toolCalls: [...execution.toolCalls, ...summaries(toolRuns)],
      usage,
      costUsd: cost.usd,
      priced: cost.priced,
      latencyMs: latencyMs(),
      error: { code: failure.code, message: failure.message },
    });
    // What was stored is what every answer says, the first and the replays alike.
    const recorded = await recordFailure(deps, failed, toolRunsOf(failed, toolRuns, at));
    await settleModelCalls(deps, execution, reservation, usage.modelCalls, cost.usd);
    return { execution: recorded, failure };
  }
}

/** The code a turn that ran out of time fails with when its caller does not queue the rest. */
export const TURN_DEADLINE_EXCEEDED = 'TURN_DEADLINE_EXCEEDED';
/** The code of a turn that failed on something unexpected (a bug, an unreachable store). */
const TURN_FAILED = 'TURN_FAILED';
/** Tool input and output kept in a failure's plainer record, as JSON text. */
const PLAIN_TOOL_JSON_CHARS = 2_000;

function asText(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? '';
  } catch {
    text = String(value);
  }
  return text.length > PLAIN_TOOL_JSON_CHARS ? `${text.slice(0, PLAIN_TOOL_JSON_CHARS)}…` : text;
}

/**
 * Records a FAILED execution. Should the full record not store (the failure may well be the data
 * itself), a plainer one is stored instead: tool input and output as JSON text, actions without
 * their results. Only when that fails too (the store is down) is it left to the log.
 */
async function recordFailure(
  deps: RuntimeDeps,
  failed: Execution,
  toolRuns: readonly ToolRun[],
): Promise<Execution> {
  try {
    await deps.executions.fail(failed, toolRuns);
    return failed;
  } catch (error) {
    deps.log?.error('Could not record a failed execution; recording a plainer one', {
      executionId: failed.id,
      error: messageOf(error),
    });
  }
  const plain: Execution = {
    ...failed,
    ...(failed.output
      ? {
          output: {
            reply: failed.output.reply,
            actions: (failed.output.actions ?? []).map(({ result: _result, ...outcome }) => outcome),
          },
        }
      : {}),
  };
  try {
    await deps.executions.fail(
      plain,
      toolRuns.map((run) => ({
        ...run,
        input: asText(run.input),
        ...(run.output === undefined ? {} : { output: asText(run.output) }),
      })),
    );
    return plain;
  } catch (error) {
    deps.log?.error('Could not record a failed execution', {
      executionId: failed.id,
      actions: (failed.output?.actions ?? []).map((a) => `${a.actionId} ${a.action} ${a.status}`),
      error: messageOf(error),
    });
    return failed;
  }
}

/** The status a failed turn answers with, from its recorded code, so that a replay answers the same. */
const STATUS_OF_FAILURE: Readonly<Record<string, number>> = {
  INSUFFICIENT_BALANCE: 402,
  TENANT_SUSPENDED: 402,
  FORBIDDEN: 403,
  VALIDATION_FAILED: 400,
  BALANCE_BUSY: 503,
  [TURN_DEADLINE_EXCEEDED]: 504,
  [TURN_FAILED]: 500,
};

/**
 * The error a failed turn answers with, the first time and on every replay: its status, what
 * failed, the execution, and every action the turn decided (executed ones with their results),
 * so the caller knows what happened and that a retry runs none of it again. Anything else (a
 * model or provider failure) is a bad gateway.
 */
export function failedTurnError(execution: Execution, first?: AppError): AppError {
  const code = execution.error?.code ?? TURN_FAILED;
  const message = execution.error?.message ?? 'The turn failed';
  const status = STATUS_OF_FAILURE[code] ?? 502;
  const actions = execution.output?.actions ?? [];
  const details = {
    // Refusals keep what they said the first time (available, required, ...).
    ...(status < 500 && first?.details ? first.details : {}),
    executionId: execution.id,
    ...(actions.length > 0 ? { actions } : {}),
  };
  return new AppError(
    status,
    code,
    status < 500 ? message : `Execution ${execution.id} failed: ${message}`,
    details,
  );
}

/** Enough tokens for the most model calls a turn can make: every tool round, plus a summary. */
const MAX_MODEL_CALLS_PER_TURN = MAX_TOOL_ROUNDS + 1;

async function reserveModelCalls(deps: RuntimeDeps, execution: Execution): Promise<Reservation | undefined> {
  const perCall = deps.billing.costs.llmCall;
  if (perCall === 0) return undefined;
  return reserve(
    deps.billing,
    execution.tenantId,
    perCall * MAX_MODEL_CALLS_PER_TURN,
    { action: 'llmCall', agentId: execution.agentId, executionId: execution.id },
    `${execution.id}:llm`,
    execution.createdBy,
  );
}

/**
 * Charges the calls the turn made (a failed turn pays for the calls that did happen) with their
 * USD cost beside them, and gives the rest back. A settlement that fails is logged; housekeeping
 * releases the reservation when its hold ends, so an error can undercharge but never charge twice.
 */
async function settleModelCalls(
  deps: RuntimeDeps,
  execution: Execution,
  reservation: Reservation | undefined,
  modelCalls: number,
  usd: number,
): Promise<void> {
  if (!reservation) return;
  const key = `${execution.id}:llm:done`;
  try {
    const charged = Math.min(reservation.amount, modelCalls * deps.billing.costs.llmCall);
    if (charged > 0) {
      await settle(deps.billing, execution.tenantId, reservation.id, charged, key, execution.createdBy, {
        usd,
      });
    } else {
      await release(deps.billing, execution.tenantId, reservation.id, key, execution.createdBy);
    }
  } catch (error) {
    deps.log?.error('Could not settle the model-call reservation', {
      executionId: execution.id,
      reservationId: reservation.id,
      error: messageOf(error),
    });
  }
}

/**
 * A deferred turn that will not go on (its agent was paused or deleted, its conversation is gone):
 * recorded FAILED with what its earlier parts did, their model calls charged and the rest of the
 * reservation they held released. Only by whoever takes it from PENDING, so once.
 */
export async function abandonDeferred(
  deps: RuntimeDeps,
  execution: Execution,
  error: { readonly code: string; readonly message: string },
): Promise<void> {
  const at = deps.now().toISOString();
  if (!(await deps.executions.start(execution.tenantId, execution.id, at))) return;
  const failed = withStatus(withStatus(execution, 'RUNNING', at), 'FAILED', at, { error });
  await recordFailure(deps, failed, []);
  // The key of the first part's reservation: this finds it, it reserves nothing new.
  const reservation = await reserveModelCalls(deps, execution);
  await settleModelCalls(deps, execution, reservation, execution.usage.modelCalls, execution.costUsd);
}

/** Whether an execution ran before and was deferred (back to PENDING) rather than never started. */
export function wasDeferred(execution: Execution): boolean {
  return (
    execution.status === 'PENDING' && execution.statusHistory.some((entry) => entry.status === 'RUNNING')
  );
}
