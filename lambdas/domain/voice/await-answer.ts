import type { Execution } from '../runtime/executions';
import { failedTurnError } from '../runtime/turn-records';
import { PHRASES } from './phrases';
import type { AwaitAnswerResult } from './protocol';
import { ssmlOf } from './speech';
import { refusal, spokenResult } from './take-turn';
import { continuationKey, parsePendingTurn, routeCall, turnKey, type VoiceDeps } from './voice-deps';

/**
 * `await-answer`: the flow's synchronous block after the filler. Reads the turn's executions
 * (the fast attempt, then its continuation) until one has finished or `awaitMs` has passed, and
 * answers what the caller hears next. Past the turn's deadline with nothing finished (the
 * continuation never ran) the caller is told politely and the call goes on.
 */
export async function awaitAnswer(
  deps: VoiceDeps,
  wait: { dialledNumber: string; turnId: string },
): Promise<AwaitAnswerResult> {
  const failed = (ssml: string): AwaitAnswerResult => ({
    status: 'failed',
    prompt: ssml,
    escalate: 'false',
    conversationSummary: '',
    escalationReason: '',
  });
  const pending = parsePendingTurn(wait.turnId);
  const route = pending ? await routeCall(deps, wait.dialledNumber) : undefined;
  if (!pending || !route) return failed(ssmlOf(PHRASES.failed));
  return deps.scopes.tenant(route.tenantId, async () => {
    const until = deps.clock() + deps.timing.awaitMs;
    const find = async (key: string) =>
      (await deps.runtime.executions.findByIdempotencyKey(route.tenantId, route.agentId, key))?.execution;
    for (;;) {
      const fast = await find(turnKey(pending.turnId));
      const settled =
        fast?.status === 'COMPLETED'
          ? fast
          : fast?.status === 'RUNNING'
            ? undefined
            : await find(continuationKey(pending.turnId));
      if (settled && (settled.status === 'COMPLETED' || settled.status === 'FAILED')) {
        return spokenOutcome(settled);
      }
      const now = deps.clock();
      if (now >= pending.deadline + deps.timing.awaitMs) return failed(ssmlOf(PHRASES.gaveUp));
      if (now + deps.timing.pollMs > until) {
        return { ...failed(ssmlOf(PHRASES.stillWorking)), status: 'pending' };
      }
      await deps.sleep(deps.timing.pollMs);
    }
  });
}

function spokenOutcome(execution: Execution): AwaitAnswerResult {
  const turn = 0;
  const reply =
    execution.status === 'COMPLETED'
      ? spokenResult({ reply: execution.output?.reply ?? '', actions: execution.output?.actions ?? [] }, turn)
      : refusal(failedTurnError(execution), turn);
  return {
    status: execution.status === 'COMPLETED' ? 'answered' : 'failed',
    prompt: reply.ssml,
    escalate: reply.kind === 'escalate' || reply.kind === 'end' ? 'true' : 'false',
    conversationSummary: reply.kind === 'escalate' ? reply.conversationSummary : '',
    escalationReason:
      reply.kind === 'escalate' ? reply.escalationReason : reply.kind === 'end' ? reply.reason : '',
  };
}
