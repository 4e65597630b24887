import type { ConnectContactFlowEvent, ConnectContactFlowResult, LexV2Event, LexV2Result } from 'aws-lambda';
import { drainTurnEvents } from '../../composition/turn-events';
import { voiceCalls } from '../../composition/voice';
import { isVoiceTurnPayload, type VoiceTurnDone, type VoiceTurnPayload } from '../../domain/voice/protocol';
import { logger } from '../../observability';
import { connectResult, isConnectEvent, lexResult, sessionOf } from './voice-events';

/** Everything the voice Lambda is invoked with: the contact flow's blocks, the Lex code hook, itself. */
export type VoiceEvent = ConnectContactFlowEvent | LexV2Event | VoiceTurnPayload;
export type VoiceResult = ConnectContactFlowResult | LexV2Result | VoiceTurnDone;

/**
 * The one voice Lambda (serviceName `voice`): every agent's calls, every turn. Discriminates by
 * shape (docs/voice protocol in lambdas/domain/voice/protocol.ts) and maps to one use case each.
 */
export async function handler(event: VoiceEvent): Promise<VoiceResult> {
  try {
    return await handle(event);
  } finally {
    // A frozen instance would deliver the turn's events to watchers minutes later, or never.
    await drainTurnEvents();
  }
}

async function handle(event: VoiceEvent): Promise<VoiceResult> {
  if (isVoiceTurnPayload(event)) {
    logger.appendKeys({
      tenantId: event.tenantId,
      agentId: event.agentId,
      conversationId: event.conversationId,
    });
    return voiceCalls.runLateTurn(event);
  }
  if (isConnectEvent(event)) {
    const contact = event.Details.ContactData;
    const operation = event.Details.Parameters.operation;
    logger.appendKeys({ contactId: contact.ContactId });
    if (operation === 'start-call') {
      return connectResult(
        await voiceCalls.startCall({
          contactId: contact.InitialContactId || contact.ContactId,
          dialledNumber: contact.SystemEndpoint?.Address ?? '',
          callerNumber: contact.CustomerEndpoint?.Address ?? '',
          initiation: contact.InitiationMethod,
          attributes: contact.Attributes ?? {},
        }),
      );
    }
    if (operation === 'await-answer') {
      return connectResult(
        await voiceCalls.awaitAnswer({
          dialledNumber: contact.SystemEndpoint?.Address ?? '',
          turnId: event.Details.Parameters.turnId ?? '',
        }),
      );
    }
    throw new Error(`Unknown voice operation: ${JSON.stringify(operation)}`);
  }
  const session = sessionOf(event);
  logger.appendKeys({ contactId: session.contactId, conversationId: session.conversationId });
  const reply = await voiceCalls.takeTurn(session, event.inputTranscript ?? '');
  return lexResult(event, reply);
}
