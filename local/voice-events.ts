import type { ConnectContactFlowEvent, LexV2Event } from 'aws-lambda';

/**
 * Amazon Connect and Lex V2 events as they reach the voice Lambda (`@types/aws-lambda` shapes): the
 * contact flow's InvokeLambdaFunction blocks and the bot's FallbackIntent fulfillment code hook.
 * One builder for the local Connect emulator, the voice tests and the voice bench, so that what
 * local mode sends and what the tests check stay the same shape. Local mode only: the Lambdas parse
 * these events (lambdas/handlers/voice/voice-events.ts), they never build them.
 */

export const LOCAL_CONNECT_INSTANCE_ARN =
  'arn:aws:connect:us-east-1:000000000000:instance/00000000-0000-4000-8000-000000000000';

/** The contact as Connect describes it to the Lambda. */
export interface FlowContact {
  readonly contactId: string;
  /** The system endpoint: the agent's number (on a call the agent placed too, as its caller id). */
  readonly dialled: string;
  readonly caller: string;
  readonly initiation?: ConnectContactFlowEvent['Details']['ContactData']['InitiationMethod'];
  /** The contact's attributes so far (`$.Attributes`). */
  readonly attributes?: Record<string, string>;
}

/** An InvokeLambdaFunction block's event: `parameters` are its LambdaInvocationAttributes, resolved. */
export function contactFlowEvent(
  contact: FlowContact,
  parameters: Record<string, string>,
): ConnectContactFlowEvent {
  return {
    Name: 'ContactFlowEvent',
    Details: {
      ContactData: {
        Attributes: { ...contact.attributes },
        Channel: 'VOICE',
        ContactId: contact.contactId,
        CustomerEndpoint: { Address: contact.caller, Type: 'TELEPHONE_NUMBER' },
        InitialContactId: contact.contactId,
        InitiationMethod: contact.initiation ?? 'INBOUND',
        InstanceARN: LOCAL_CONNECT_INSTANCE_ARN,
        PreviousContactId: contact.contactId,
        Queue: null,
        SystemEndpoint: { Address: contact.dialled, Type: 'TELEPHONE_NUMBER' },
        MediaStreams: { Customer: { Audio: null } },
      },
      Parameters: parameters,
    },
  };
}

/**
 * The FallbackIntent code hook's event for the caller's `text`, with the Lex session's attributes.
 * Lex's session id is Connect's contact id: the session's `contactId` unless given.
 */
export function lexFallbackEvent(
  text: string,
  sessionAttributes: Record<string, string>,
  request: { readonly sessionId?: string; readonly requestId?: string } = {},
): LexV2Event {
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
    sessionId: request.sessionId ?? sessionAttributes.contactId ?? 'session-1',
    inputTranscript: text,
    bot: {
      id: 'LOCALBOT01',
      name: 'voice-agents',
      aliasId: 'LOCALALIAS',
      aliasName: 'live',
      localeId: 'en_US',
      version: '1',
    },
    interpretations: [{ intent: { ...intent, slots: {} }, nluConfidence: 0.4 }],
    proposedNextState: { dialogAction: { type: 'Close' }, intent: { ...intent, slots: {} } },
    requestAttributes: { 'x-amz-lex:accept-content-types': 'PlainText,SSML' },
    sessionState: {
      sessionAttributes: { ...sessionAttributes },
      intent: { ...intent, slots: {} },
      originatingRequestId: request.requestId ?? 'req-1',
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
