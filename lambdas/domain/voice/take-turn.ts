import type { ActionOutcome } from '../actions/decision-engine';
import { type ChatResult, chat } from '../runtime/agent-runtime';
import { admitTurn } from '../runtime/rate-limits';
import { AppError, ConflictError } from '../shared/errors';
import { PHRASES } from './phrases';
import type { VoiceSession, VoiceTurnReply } from './protocol';
import { ssmlOf, toSsml } from './speech';
import {
  continuationKey,
  pendingTurnOf,
  routeCall,
  turnKey,
  type VoiceDeps,
  voicePrincipal,
} from './voice-deps';

/** Why a turn was handed to a person, for the flow's contact attributes. */
const AGENT_ESCALATED = 'the agent escalated the call';

/**
 * The Lex code hook's use case: one utterance of the caller, one turn of the agent through the
 * same runtime as every channel (`chat`: decision engine, billing, the conversation stored), under
 * the fast budget. In time: the answer, spoken. Out of time: the attempt stops (recorded
 * TURN_TIMED_OUT, its unused tokens released, nothing started after the deadline), the turn goes
 * on as its continuation (the Lambda's own asynchronous invocation) and the caller hears the
 * filler while the flow waits for the answer (`await-answer`). The turn's number comes from the
 * session, so a retried invocation is the same turn: charged once, stored once.
 */
export async function takeTurn(
  deps: VoiceDeps,
  session: VoiceSession,
  text: string,
): Promise<VoiceTurnReply> {
  const turn = session.turn + 1;
  const turnId = `${session.contactId}:${turn}`;
  const answer = (ssml: string): VoiceTurnReply => ({ kind: 'answer', ssml, turn });
  if (!text.trim()) return answer(ssmlOf(PHRASES.didNotHear));
  const route = await routeCall(deps, session.dialledNumber);
  if (!route || !session.conversationId) {
    return { kind: 'end', ssml: ssmlOf(PHRASES.unknownNumber), turn, reason: 'unknown number' };
  }
  const started = deps.clock();
  return deps.scopes.tenant(route.tenantId, async () => {
    const run = (key: string, deadline: number) =>
      chat(
        deps.runtime,
        voicePrincipal(route.tenantId),
        route.agentId,
        { message: text, channel: 'voice', conversationId: session.conversationId },
        key,
        { deadline },
      );
    try {
      await admitTurn(deps.turnAdmission, route.tenantId, route.agentId);
      const result = await run(turnKey(turnId), started + deps.timing.fastMs);
      return spokenResult(result, turn);
    } catch (error) {
      const late =
        (error instanceof AppError && error.code === 'TURN_TIMED_OUT') ||
        // A retry of this turn while its first attempt still runs: that one answers.
        (error instanceof ConflictError && (error.details as { status?: string })?.status === 'RUNNING');
      if (late) {
        const deadline = started + deps.timing.turnMs;
        await deps.continuation.start({
          kind: 'voice-turn',
          tenantId: route.tenantId,
          agentId: route.agentId,
          conversationId: session.conversationId,
          turnId,
          text,
          deadline,
        });
        return {
          kind: 'pending',
          ssml: ssmlOf(PHRASES.filler),
          turn,
          turnId: pendingTurnOf(turnId, deadline),
        };
      }
      return refusal(error, turn);
    }
  });
}

/**
 * The continuation of a turn that outran the fast budget (the Lambda's asynchronous invocation):
 * the same turn under its own key, until the turn's deadline. What the timed-out attempt already
 * did (an action decided before it ran out of time) is told to the model so nothing is done twice.
 */
export async function continueTurn(
  deps: VoiceDeps,
  turn: {
    tenantId: string;
    agentId: string;
    conversationId: string;
    turnId: string;
    text: string;
    deadline: number;
  },
): Promise<'answered' | 'failed'> {
  return deps.scopes.tenant(turn.tenantId, async () => {
    const first = await deps.runtime.executions.findByIdempotencyKey(
      turn.tenantId,
      turn.agentId,
      turnKey(turn.turnId),
    );
    const done = first?.execution.output?.actions ?? [];
    try {
      await chat(
        deps.runtime,
        voicePrincipal(turn.tenantId),
        turn.agentId,
        {
          message: turn.text,
          channel: 'voice',
          conversationId: turn.conversationId,
          ...(done.length > 0
            ? {
                context: {
                  alreadyDecidedThisTurn: done.map((a) => ({ action: a.action, status: a.status })),
                },
              }
            : {}),
        },
        continuationKey(turn.turnId),
        { deadline: turn.deadline },
      );
      return 'answered';
    } catch (error) {
      if (error instanceof AppError) return 'failed';
      throw error;
    }
  });
}

/** What the caller hears of a finished turn, and whether the flow hands the call to a person. */
export function spokenResult(result: Pick<ChatResult, 'reply' | 'actions'>, turn: number): VoiceTurnReply {
  const extra = waitingNote(result.actions);
  const text = [result.reply.trim(), extra].filter(Boolean).join(' ');
  const ssml = text ? toSsml(text, extra ? { maxSentences: 5 } : {}) : ssmlOf(PHRASES.failed);
  if (result.actions.some((a) => a.action === 'escalate' && a.status === 'executed')) {
    return {
      kind: 'escalate',
      ssml: text ? ssml : ssmlOf(PHRASES.handedOff),
      turn,
      conversationSummary: summaryOf(result.reply),
      escalationReason: AGENT_ESCALATED,
    };
  }
  return { kind: 'answer', ssml, turn };
}

/** An action under approval is said so: the caller must not believe it is done. */
function waitingNote(actions: readonly ActionOutcome[]): string {
  if (actions.some((a) => a.status === 'awaiting_approval')) return PHRASES.awaitingApproval;
  if (actions.some((a) => a.status === 'awaiting_confirmation')) return PHRASES.awaitingConfirmation;
  return '';
}

function summaryOf(reply: string): string {
  const flat = reply.replace(/\s+/g, ' ').trim();
  return flat.length > 250 ? `${flat.slice(0, 249)}…` : flat;
}

/** A turn refused or failed: said politely; out of tokens or an agent gone quiet ends with a person. */
export function refusal(error: unknown, turn: number): VoiceTurnReply {
  if (!(error instanceof AppError)) throw error;
  if (error.statusCode === 402) {
    return { kind: 'end', ssml: ssmlOf(PHRASES.noTokensMidCall), turn, reason: 'out of tokens' };
  }
  const status = (error.details as { status?: string } | undefined)?.status;
  if (error instanceof ConflictError && (status === 'handoff' || status === 'paused')) {
    return {
      kind: 'escalate',
      ssml: ssmlOf(PHRASES.handedOff),
      turn,
      conversationSummary: '',
      escalationReason: `the conversation is ${status}: a person is handling it`,
    };
  }
  if (error instanceof ConflictError && status !== undefined) {
    // The agent was paused, stopped or deleted during the call.
    return {
      kind: 'end',
      ssml: ssmlOf(PHRASES.unavailable('this agent')),
      turn,
      reason: `the agent is ${status}`,
    };
  }
  if (error.statusCode === 429) return { kind: 'answer', ssml: ssmlOf(PHRASES.busy), turn };
  if (error.code === 'TURN_TIMED_OUT') return { kind: 'answer', ssml: ssmlOf(PHRASES.gaveUp), turn };
  return { kind: 'answer', ssml: ssmlOf(PHRASES.failed), turn };
}
