import { NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { ExecutionStatus } from './executions';
import type { RuntimeDeps } from './runtime-deps';

/** Reading executions: one by id, or an agent's, newest first. */

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
