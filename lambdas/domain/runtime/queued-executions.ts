import type { Agent } from '../agents/schemas';
import { AppError } from '../shared/errors';
import { runChatTurn } from './chat-turn';
import type { Execution } from './executions';
import type { RuntimeDeps } from './runtime-deps';
import { runTask } from './task';
import { abandonDeferred, wasDeferred, withStatus } from './turn-records';

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
