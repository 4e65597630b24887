import type { ConnectContactFlowEvent, LexV2Event } from 'aws-lambda';

/**
 * Amazon Connect and Lex V2 events as they reach the voice Lambda (`@types/aws-lambda` shapes):
 * the contact flow's InvokeLambdaFunction blocks and the bot's FallbackIntent fulfillment hook.
 */
const INSTANCE_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555';

export function contactFlowEvent(
  operation: 'start-call' | 'await-answer',
  call: {
    contactId: string;
    dialled: string;
    caller: string;
    initiation?: ConnectContactFlowEvent['Details']['ContactData']['InitiationMethod'];
    attributes?: Record<string, string>;
    parameters?: Record<string, string>;
  },
): ConnectContactFlowEvent {
  return {
    Name: 'ContactFlowEvent',
    Details: {
      ContactData: {
        Attributes: call.attributes ?? {},
        Channel: 'VOICE',
        ContactId: call.contactId,
        CustomerEndpoint: { Address: call.caller, Type: 'TELEPHONE_NUMBER' },
        InitialContactId: call.contactId,
        InitiationMethod: call.initiation ?? 'INBOUND',
        InstanceARN: INSTANCE_ARN,
        PreviousContactId: call.contactId,
        Queue: null,
        SystemEndpoint: { Address: call.dialled, Type: 'TELEPHONE_NUMBER' },
        MediaStreams: { Customer: { Audio: null } },
      },
      Parameters: { operation, ...call.parameters },
    },
  };
}

export function lexFallbackEvent(text: string, sessionAttributes: Record<string, string>): LexV2Event {
  const intent = {
    name: 'FallbackIntent',
    slots: {},
    state: 'ReadyForFulfillment',
    confirmationState: 'None',
  } as const;
  return {
    messageVersion: '1.0',
    invocationSource: 'FulfillmentCodeHook',
    inputMode: 'Speech',
    responseContentType: 'audio/pcm',
    sessionId: sessionAttributes.contactId ?? 'session-1',
    inputTranscript: text,
    bot: {
      id: 'BOTID12345',
      name: 'voice-agents',
      aliasId: 'ALIAS12345',
      aliasName: 'live',
      localeId: 'en_US',
      version: '1',
    },
    interpretations: [{ intent: { ...intent, slots: {} }, nluConfidence: 0.4 }],
    proposedNextState: { dialogAction: { type: 'Close' }, intent: { ...intent, slots: {} } },
    requestAttributes: { 'x-amz-lex:accept-content-types': 'PlainText,SSML' },
    sessionState: {
      sessionAttributes,
      intent: { ...intent, slots: {} },
      originatingRequestId: 'req-1',
    },
    transcriptions: [
      {
        transcription: text,
        transcriptionConfidence: 0.9,
        resolvedContext: { intent: 'FallbackIntent' },
        resolvedSlots: {},
      },
    ],
  };
}
