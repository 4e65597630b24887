import type { ConnectContactFlowEvent, ConnectContactFlowResult, LexV2Event, LexV2Result } from 'aws-lambda';
import type { VoiceSession, VoiceTurnReply } from '../../domain/voice/protocol';

/**
 * The mapping between Connect's and Lex V2's event shapes and the voice protocol
 * (lambdas/domain/voice/protocol.ts): parsing in, the exact response shapes out.
 */

export function isConnectEvent(event: object): event is ConnectContactFlowEvent {
  return (event as { Name?: unknown }).Name === 'ContactFlowEvent';
}

/** Connect wants a flat map of strings: `$.External.<key>`. */
export function connectResult(result: object): ConnectContactFlowResult {
  const flat: ConnectContactFlowResult = {};
  for (const [key, value] of Object.entries(result)) {
    if (value === undefined) continue;
    flat[key] = typeof value === 'string' ? value : String(value);
  }
  return flat;
}

/** The session the flow passed the bot (dialled and calling numbers, conversation, contact) and the turn counter. */
export function sessionOf(event: LexV2Event): VoiceSession {
  const attributes = event.sessionState.sessionAttributes ?? {};
  const turn = Number.parseInt(attributes.turn ?? '0', 10);
  return {
    dialledNumber: attributes.dialledNumber ?? '',
    callerNumber: attributes.callerNumber ?? '',
    conversationId: attributes.conversationId ?? '',
    // Lex's session id is Connect's contact id when the flow does not pass it.
    contactId: attributes.contactId || event.sessionId,
    turn: Number.isFinite(turn) && turn >= 0 ? turn : 0,
  };
}

/**
 * Barge-in: the caller may interrupt every prompt the bot speaks (Connect reads this Lex V2
 * session attribute; `*:*` = any intent, any slot).
 */
export const BARGE_IN_ATTRIBUTE = 'x-amz-lex:allow-interrupt:*:*';

/** Attributes the Lambda owns: cleared on every answer so a stale one never steers the flow. */
const TURN_ATTRIBUTES = ['pendingTurn', 'escalate', 'conversationSummary', 'escalationReason', 'callEnd'];

export function lexResult(event: LexV2Event, reply: VoiceTurnReply): LexV2Result {
  const attributes: Record<string, string> = { ...(event.sessionState.sessionAttributes ?? {}) };
  for (const name of TURN_ATTRIBUTES) delete attributes[name];
  attributes.turn = String(reply.turn);
  attributes[BARGE_IN_ATTRIBUTE] = 'true';
  const messages: LexV2Result['messages'] = [{ contentType: 'SSML', content: reply.ssml }];
  if (reply.kind === 'answer') {
    // The conversation stays in the bot: the next utterance comes back to this code hook.
    return {
      sessionState: { sessionAttributes: attributes, dialogAction: { type: 'ElicitIntent' } },
      messages,
    };
  }
  if (reply.kind === 'pending') attributes.pendingTurn = reply.turnId;
  if (reply.kind === 'escalate') {
    attributes.escalate = 'true';
    attributes.conversationSummary = reply.conversationSummary;
    attributes.escalationReason = reply.escalationReason;
  }
  if (reply.kind === 'end') {
    // Said, then a person if the flow has a queue (escalate), else the flow says goodbye.
    attributes.escalate = 'true';
    attributes.callEnd = reply.reason;
    attributes.escalationReason = reply.reason;
    attributes.conversationSummary = '';
  }
  return {
    sessionState: {
      sessionAttributes: attributes,
      dialogAction: { type: 'Close' },
      intent: { name: event.sessionState.intent.name, state: 'Fulfilled' },
    },
    messages,
  };
}
