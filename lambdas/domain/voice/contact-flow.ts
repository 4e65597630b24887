/**
 * The one Amazon Connect contact flow every voice agent runs, as a Flow language document.
 * Built by a pure function so the CDK app (the shared flow per environment) and the
 * provisioning workflow (a flow per claimed number) produce the same document.
 *
 * Action types, parameters and transition shapes follow the Flow language reference:
 * - https://docs.aws.amazon.com/connect/latest/APIReference/flow-language-actions.html
 *   (Identifier rules: unique, ≤ 50 characters, none of `% : ( \ / ) = $ , ; [ ] { }`)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontactattributes.html
 * - https://docs.aws.amazon.com/connect/latest/adminguide/participant-actions-messageparticipant.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-connectparticipantwithlexbot.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/flow-control-actions-compare.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontacttargetqueue.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-transfercontacttoqueue.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-disconnectparticipant.html
 *
 * Shape of a call: set the dialled and calling numbers as contact attributes (and pass them to
 * the bot as Lex session attributes, which is what the voice Lambda behind the bot reads), greet,
 * then the bot turn loops: the conversation stays inside Lex while the voice Lambda elicits the
 * next utterance; when an intent closes, the flow looks at what the caller or the agent asked for
 * (transfer, goodbye, or carry on) and comes back to the bot. DTMF 0 and "a person, please" are
 * utterances of the transfer intent of the bot (item 1 of issue 12 builds it); the agent escalates
 * by setting the `escalate` session attribute to `true`. Every error ends in a spoken apology and
 * a hang-up, never in silence.
 *
 * TODO(issue 12, item 2): embed in the CDK app (AWS::Connect::ContactFlow, Content =
 * JSON.stringify(contactFlow(...))) and check the whole template with cfn-lint. The ARNs are
 * validated as literal ARNs, so the CDK must pass resolved ARNs (or this check must learn to accept
 * deploy-time tokens) — not decided in this pass.
 */
import * as z from 'zod/mini';
import { ValidationError } from '../shared/errors';
import { text } from '../shared/zod';

export const CONTACT_FLOW_VERSION = '2019-10-30';

/** Contact attribute and Lex session attribute names shared with the voice Lambda. */
export const VOICE_ATTRIBUTES = {
  dialledNumber: 'dialledNumber',
  callerNumber: 'callerNumber',
  escalate: 'escalate',
  conversationId: 'conversationId',
  conversationSummary: 'conversationSummary',
  escalationReason: 'escalationReason',
} as const;

export const DEFAULT_TRANSFER_INTENT = 'TransferToHuman';
export const DEFAULT_GOODBYE_INTENT = 'Goodbye';

const lexV2BotAliasArn = /^arn:aws[a-z-]*:lex:[a-z0-9-]+:\d{12}:bot-alias\/[A-Za-z0-9]{10}\/[A-Za-z0-9]{10}$/;
const connectQueueArn =
  /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}\/queue\/[0-9a-f-]{36}$/;
const lexIntentName = /^([0-9a-zA-Z][_-]?)+$/;

// Spoken texts are bounded well under Connect's prompt limits; a greeting is a sentence, not a speech.
const spoken = () => text(1, 1000);

const contactFlowOptionsSchema = z.object({
  greeting: spoken(),
  botAliasArn: z.string().check(z.regex(lexV2BotAliasArn, 'must be a Lex V2 bot alias ARN')),
  humanQueueArn: z.string().check(z.regex(connectQueueArn, 'must be an Amazon Connect queue ARN')),
  continuePrompt: z.optional(spoken()),
  transferMessage: z.optional(spoken()),
  goodbyeMessage: z.optional(spoken()),
  apologyMessage: z.optional(spoken()),
  transferIntentName: z.optional(text(1, 100).check(z.regex(lexIntentName, 'must be a Lex intent name'))),
  goodbyeIntentName: z.optional(text(1, 100).check(z.regex(lexIntentName, 'must be a Lex intent name'))),
});

export type ContactFlowOptions = z.input<typeof contactFlowOptionsSchema>;

export interface FlowCondition {
  readonly NextAction: string;
  readonly Condition: { readonly Operator: 'Equals'; readonly Operands: readonly string[] };
}

export interface FlowError {
  readonly NextAction: string;
  readonly ErrorType: string;
}

export interface FlowAction {
  readonly Identifier: string;
  readonly Type: string;
  readonly Parameters: Readonly<Record<string, unknown>>;
  readonly Transitions: {
    readonly NextAction?: string;
    readonly Conditions?: readonly FlowCondition[];
    readonly Errors?: readonly FlowError[];
  };
}

export interface ContactFlowDocument {
  readonly Version: typeof CONTACT_FLOW_VERSION;
  readonly StartAction: string;
  readonly Actions: readonly FlowAction[];
}

/** Action identifiers; readable in the Connect console and in contact logs. */
export const FLOW_ACTION_IDS = {
  setNumbers: 'set-call-numbers',
  greet: 'greet-caller',
  botTurn: 'bot-turn',
  checkEscalation: 'check-agent-escalation',
  setSummary: 'set-handoff-summary',
  setQueue: 'set-human-queue',
  announceTransfer: 'announce-transfer',
  transfer: 'transfer-to-human',
  queueFull: 'human-queue-full',
  goodbye: 'say-goodbye',
  apology: 'say-apology',
  disconnect: 'disconnect',
} as const;

const ids = FLOW_ACTION_IDS;
const lexSession = (name: string) => `$.Lex.SessionAttributes.${name}`;
const contactAttribute = (name: string) => `$.Attributes.${name}`;
const onError = (next: string, ...types: string[]): FlowError[] =>
  (types.length > 0 ? types : ['NoMatchingError']).map((ErrorType) => ({
    NextAction: next,
    ErrorType,
  }));
const when = (value: string, next: string): FlowCondition => ({
  NextAction: next,
  Condition: { Operator: 'Equals', Operands: [value] },
});

function parseOptions(options: ContactFlowOptions): z.output<typeof contactFlowOptionsSchema> {
  const parsed = contactFlowOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.join('.') || '(options)',
    message: issue.message,
  }));
  throw new ValidationError(
    `Invalid contact flow options: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    issues,
  );
}

export function contactFlow(options: ContactFlowOptions): ContactFlowDocument {
  const o = parseOptions(options);
  const a = VOICE_ATTRIBUTES;
  const actions: FlowAction[] = [
    {
      Identifier: ids.setNumbers,
      Type: 'UpdateContactAttributes',
      Parameters: {
        TargetContact: 'Current',
        Attributes: {
          [a.dialledNumber]: '$.SystemEndpoint.Address',
          [a.callerNumber]: '$.CustomerEndpoint.Address',
        },
      },
      Transitions: { NextAction: ids.greet, Errors: onError(ids.apology) },
    },
    {
      Identifier: ids.greet,
      Type: 'MessageParticipant',
      Parameters: { Text: o.greeting },
      Transitions: { NextAction: ids.botTurn, Errors: onError(ids.apology) },
    },
    {
      Identifier: ids.botTurn,
      Type: 'ConnectParticipantWithLexBot',
      Parameters: {
        Text: o.continuePrompt ?? 'How can I help?',
        LexV2Bot: { AliasArn: o.botAliasArn },
        LexSessionAttributes: {
          [a.dialledNumber]: contactAttribute(a.dialledNumber),
          [a.callerNumber]: contactAttribute(a.callerNumber),
        },
      },
      Transitions: {
        NextAction: ids.checkEscalation,
        Conditions: [
          when(o.transferIntentName ?? DEFAULT_TRANSFER_INTENT, ids.setSummary),
          when(o.goodbyeIntentName ?? DEFAULT_GOODBYE_INTENT, ids.goodbye),
        ],
        Errors: [
          // A caller who stays silent is asked again by Lex itself; reaching the flow's timeout
          // means nobody is there.
          ...onError(ids.goodbye, 'InputTimeLimitExceeded'),
          // Any other closed intent (the fallback the voice Lambda answers): see whether the agent escalated.
          ...onError(ids.checkEscalation, 'NoMatchingCondition'),
          ...onError(ids.apology, 'NoMatchingError'),
        ],
      },
    },
    {
      Identifier: ids.checkEscalation,
      Type: 'Compare',
      Parameters: { ComparisonValue: lexSession(a.escalate) },
      Transitions: {
        NextAction: ids.botTurn,
        Conditions: [when('true', ids.setSummary)],
        // Not escalated: the loop goes back to the bot for the next turn.
        Errors: onError(ids.botTurn, 'NoMatchingCondition'),
      },
    },
    {
      Identifier: ids.setSummary,
      Type: 'UpdateContactAttributes',
      Parameters: {
        TargetContact: 'Current',
        Attributes: {
          [a.conversationId]: lexSession(a.conversationId),
          [a.conversationSummary]: lexSession(a.conversationSummary),
          [a.escalationReason]: lexSession(a.escalationReason),
        },
      },
      // A caller who asked for a person still gets one when the summary could not be copied.
      Transitions: { NextAction: ids.setQueue, Errors: onError(ids.setQueue) },
    },
    {
      Identifier: ids.setQueue,
      Type: 'UpdateContactTargetQueue',
      Parameters: { QueueId: o.humanQueueArn },
      Transitions: { NextAction: ids.announceTransfer, Errors: onError(ids.apology) },
    },
    {
      Identifier: ids.announceTransfer,
      Type: 'MessageParticipant',
      Parameters: { Text: o.transferMessage ?? 'Let me connect you with a person. Please hold.' },
      Transitions: { NextAction: ids.transfer, Errors: onError(ids.transfer) },
    },
    {
      Identifier: ids.transfer,
      Type: 'TransferContactToQueue',
      Parameters: {},
      Transitions: {
        // Once queued, the contact leaves this flow; a flow still running here has nothing to do.
        NextAction: ids.disconnect,
        Errors: [...onError(ids.queueFull, 'QueueAtCapacity'), ...onError(ids.apology, 'NoMatchingError')],
      },
    },
    {
      Identifier: ids.queueFull,
      Type: 'MessageParticipant',
      Parameters: {
        Text: 'Everyone who could help is busy right now. Please call back a little later.',
      },
      Transitions: { NextAction: ids.disconnect, Errors: onError(ids.disconnect) },
    },
    {
      Identifier: ids.goodbye,
      Type: 'MessageParticipant',
      Parameters: { Text: o.goodbyeMessage ?? 'Thank you for calling. Goodbye.' },
      Transitions: { NextAction: ids.disconnect, Errors: onError(ids.disconnect) },
    },
    {
      Identifier: ids.apology,
      Type: 'MessageParticipant',
      Parameters: {
        Text:
          o.apologyMessage ??
          'Sorry, something went wrong on our side and we cannot continue this call. Please call again later.',
      },
      Transitions: { NextAction: ids.disconnect, Errors: onError(ids.disconnect) },
    },
    {
      Identifier: ids.disconnect,
      Type: 'DisconnectParticipant',
      Parameters: {},
      Transitions: {},
    },
  ];
  return { Version: CONTACT_FLOW_VERSION, StartAction: ids.setNumbers, Actions: actions };
}
