import type { Agent } from '../agents/schemas';
import type { AppError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { toolDeps, turnDeadline } from './chat-turn';
import type { Continuation, Execution } from './executions';
import { checkedOrEarlier, checkSameRequest, claimOf } from './idempotent-requests';
import type { RuntimeDeps } from './runtime-deps';
import { runTurn } from './turn';
import { answeringAgent } from './turn-context';
import { failedTurnError, finish, newExecution, toolRunsOf, withStatus } from './turn-records';

/** The task use case: a task run now (under an optional deadline) or queued, and its replay. */

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

/**
 * Runs a PENDING task (fresh, or deferred earlier: then from its checkpoint). Under a deadline a
 * task that runs out of time is recorded PENDING again and queued, like a chat turn.
 */
export async function runTask(
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
