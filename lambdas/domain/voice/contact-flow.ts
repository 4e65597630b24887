/**
 * The one Amazon Connect contact flow every voice agent runs, as a Flow language document.
 * Built by a pure function so the CDK app (the shared flow per environment, lib/constructs/voice-channel.ts)
 * and the provisioning workflow (a flow per claimed number) produce the same document.
 *
 * Action types, parameters and transition shapes follow the Flow language reference:
 * - https://docs.aws.amazon.com/connect/latest/APIReference/flow-language-actions.html
 *   (Identifier rules: unique, ≤ 50 characters, none of `% : ( \ / ) = $ , ; [ ] { }`)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/interactions-invokelambdafunction.html
 *   (LambdaFunctionARN, InvocationTimeLimitSeconds ≤ 8, InvocationType SYNCHRONOUS, ResponseValidation
 *   STRING_MAP: the function returns a flat map of strings, read back under `$.External`)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontacttexttospeechvoice.html
 *   (TextToSpeechVoice, TextToSpeechEngine: static or dynamic)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontactdata.html (LanguageCode)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontactattributes.html
 * - https://docs.aws.amazon.com/connect/latest/adminguide/participant-actions-messageparticipant.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-connectparticipantwithlexbot.html
 *   (exactly one of PromptId / Text / SSML, static or dynamic; LexV2Bot.AliasArn; LexSessionAttributes)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/flow-control-actions-compare.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/flow-control-actions-loop.html
 *   (LoopCount 0-100; Conditions Equals ContinueLooping and DoneLooping, both required)
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontacttargetqueue.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-transfercontacttoqueue.html
 * - https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-disconnectparticipant.html
 *
 * Shape of a call (docs: /work/briefs/voice-design.md, "Contact flow"; README "Voice"):
 * 1. The dialled and calling numbers become contact attributes, then the voice Lambda's `start-call`
 *    (synchronous, 3 s) routes the dialled number to the tenant's agent and answers `outcome`,
 *    `prompt` (the SSML greeting), `voiceId`, `languageCode`, `conversationId` and, when not ok,
 *    `message`.
 * 2. Not ok: the polite `message` is spoken; out of tokens the caller goes to the human queue (when
 *    there is one), anything else hangs up.
 * 3. Ok: the agent's Polly voice and language are set, and the bot turn speaks the contact attribute
 *    `prompt` as SSML. The conversation then stays inside Lex (the FallbackIntent code hook is the
 *    voice Lambda, which elicits the next utterance) until an intent closes:
 *    - the transfer intent (DTMF 0, "a person", ...) or `escalate=true` → the summary becomes contact
 *      attributes and the caller is transferred to the human queue;
 *    - the goodbye intent, or a caller who is no longer there → goodbye, hang up;
 *    - `endCall=true` (the code hook ended the call: a stopped agent, no tokens left) → hang up;
 *    - a turn the code hook could not finish in its budget closes with a filler and `pendingTurn`:
 *      the flow's `await-answer` Lambda block (synchronous, 8 s, Connect's limit) waits for the stored
 *      answer; `pending` → a short filler and wait again (bounded by a Loop), `answered` → its prompt is
 *      the next bot turn's (or the transfer, when the agent escalated), `failed` → its polite prompt.
 * Every error ends in a spoken apology and a hang-up, never in silence.
 *
 * ARNs may be CDK tokens (strings containing `${Token[`): the CDK app builds the shared flow before
 * deployment, when the bot alias, queue and function ARNs are not known yet; CloudFormation fills
 * them in. Literal ARNs are checked.
 */
import * as z from 'zod/mini';
import { ValidationError } from '../shared/errors';
import { text } from '../shared/zod';

export const CONTACT_FLOW_VERSION = '2019-10-30';

/** Contact attribute and Lex session attribute names shared with the voice Lambda. */
export const VOICE_ATTRIBUTES = {
  dialledNumber: 'dialledNumber',
  callerNumber: 'callerNumber',
  contactId: 'contactId',
  escalate: 'escalate',
  conversationId: 'conversationId',
  conversationSummary: 'conversationSummary',
  escalationReason: 'escalationReason',
  /** Lex session attribute: the turn the code hook handed to its asynchronous self-invocation. */
  pendingTurn: 'pendingTurn',
  /**
   * Lex session attribute: `true` when the code hook closed the intent to end the call (a stopped
   * agent, no tokens left): its closing message has been spoken, the flow hangs up.
   */
  endCall: 'endCall',
  /** Contact attribute: the SSML the next bot turn speaks. */
  prompt: 'prompt',
} as const;

/** `Details.Parameters.operation` of the flow's Lambda blocks, and what each answers (flat string maps). */
export const VOICE_OPERATIONS = { startCall: 'start-call', awaitAnswer: 'await-answer' } as const;

/** `$.External.outcome` of `start-call`. */
export const START_CALL_OUTCOMES = ['ok', 'unknown-number', 'unavailable', 'no-tokens'] as const;
/** `$.External.status` of `await-answer`. */
export const AWAIT_ANSWER_STATUSES = ['answered', 'pending', 'failed'] as const;

/** Connect's limit for a synchronous Lambda block is 8 s; start-call answers from one or two reads. */
export const START_CALL_TIME_LIMIT_SECONDS = 3;
export const AWAIT_ANSWER_TIME_LIMIT_SECONDS = 8;

export const DEFAULT_TRANSFER_INTENT = 'TransferToHuman';
export const DEFAULT_GOODBYE_INTENT = 'Goodbye';
/** Waits for one pending answer before the flow gives the turn up (see `maxPendingWaits`). */
export const DEFAULT_MAX_PENDING_WAITS = 8;

const lexV2BotAliasArn = /^arn:aws[a-z-]*:lex:[a-z0-9-]+:\d{12}:bot-alias\/[A-Za-z0-9]{10}\/[A-Za-z0-9]{10}$/;
const connectQueueArn =
  /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}\/queue\/[0-9a-f-]{36}$/;
const lambdaFunctionArn =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/;
const lexIntentName = /^([0-9a-zA-Z][_-]?)+$/;

/**
 * A CDK token rendered as a string (`${Token[...]}`): a value CloudFormation fills in at deploy
 * time. The domain cannot import the CDK's `Token.isUnresolved`, so it recognises the marker.
 */
export function isDeployTimeValue(value: string): boolean {
  return value.includes('${Token[');
}

const arnOrToken = (pattern: RegExp, message: string) =>
  z.string().check(z.refine((value) => isDeployTimeValue(value) || pattern.test(value), { message }));

// Spoken texts are bounded well under Connect's prompt limits; a message is a sentence, not a speech.
const spoken = () => text(1, 1000);

const contactFlowOptionsSchema = z.object({
  /** The voice Lambda (serviceName `voice`): `start-call` and `await-answer`. */
  voiceLambdaArn: arnOrToken(lambdaFunctionArn, 'must be a Lambda function ARN'),
  /** The shared Lex V2 bot's alias, whose FallbackIntent code hook is the same Lambda. */
  botAliasArn: arnOrToken(lexV2BotAliasArn, 'must be a Lex V2 bot alias ARN'),
  /** Where callers who ask for a person go. Without it they hear `noHumanMessage` and stay with the agent. */
  humanQueueArn: z.optional(arnOrToken(connectQueueArn, 'must be an Amazon Connect queue ARN')),
  /** Polly engine for the agent's voice (`standard` if unset); an agent's voice that lacks it falls back to the default voice. */
  textToSpeechEngine: z.optional(z.enum(['standard', 'neural', 'generative'])),
  transferMessage: z.optional(spoken()),
  goodbyeMessage: z.optional(spoken()),
  apologyMessage: z.optional(spoken()),
  /** Said between two waits for a pending answer. */
  stillWorkingMessage: z.optional(spoken()),
  /** Said (by the next bot turn) when a caller asks for a person and there is no human queue. */
  noHumanMessage: z.optional(spoken()),
  /** Said (by the next bot turn) when a pending answer never came. */
  gaveUpMessage: z.optional(spoken()),
  /** Waits of up to 8 s each for one pending answer (a Loop block; the voice Lambda's own deadline comes first). */
  maxPendingWaits: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(20))),
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
  startCall: 'start-call',
  checkOutcome: 'check-start-outcome',
  refuseCall: 'say-call-refused',
  checkRefusal: 'check-refusal-transfer',
  setVoice: 'set-agent-voice',
  setLanguage: 'set-agent-language',
  setGreeting: 'set-greeting-prompt',
  botTurn: 'bot-turn',
  checkEscalation: 'check-agent-escalation',
  checkCallEnd: 'check-call-end',
  awaitAnswer: 'await-answer',
  checkAnswer: 'check-answer-status',
  setAnswer: 'set-answer-prompt',
  checkAnswerEscalation: 'check-answer-escalation',
  pendingLimit: 'pending-wait-limit',
  stillWorking: 'say-still-working',
  setGaveUp: 'set-gave-up-prompt',
  setFailure: 'set-failure-prompt',
  setSummary: 'set-handoff-summary',
  setNoHuman: 'set-no-human-prompt',
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
const external = (name: string) => `$.External.${name}`;
const onError = (next: string, ...types: string[]): FlowError[] =>
  (types.length > 0 ? types : ['NoMatchingError']).map((ErrorType) => ({
    NextAction: next,
    ErrorType,
  }));
const when = (value: string, next: string): FlowCondition => ({
  NextAction: next,
  Condition: { Operator: 'Equals', Operands: [value] },
});
const setAttributes = (
  Identifier: string,
  attributes: Record<string, string>,
  next: string,
  onFailure: string,
): FlowAction => ({
  Identifier,
  Type: 'UpdateContactAttributes',
  Parameters: { TargetContact: 'Current', Attributes: attributes },
  Transitions: { NextAction: next, Errors: onError(onFailure) },
});
const say = (Identifier: string, message: string, next: string, onFailure = next): FlowAction => ({
  Identifier,
  Type: 'MessageParticipant',
  Parameters: { Text: message },
  Transitions: { NextAction: next, Errors: onError(onFailure) },
});
/** Compares `value` with each condition's; when none is equal: `otherwise`. */
const compare = (
  Identifier: string,
  value: string,
  conditions: FlowCondition[],
  otherwise: string,
): FlowAction => ({
  Identifier,
  Type: 'Compare',
  Parameters: { ComparisonValue: value },
  Transitions: {
    NextAction: otherwise,
    Conditions: conditions,
    Errors: onError(otherwise, 'NoMatchingCondition'),
  },
});
const invokeVoiceLambda = (
  Identifier: string,
  functionArn: string,
  timeLimitSeconds: number,
  attributes: Record<string, string>,
  next: string,
  onFailure: string,
): FlowAction => ({
  Identifier,
  Type: 'InvokeLambdaFunction',
  Parameters: {
    LambdaFunctionARN: functionArn,
    InvocationTimeLimitSeconds: String(timeLimitSeconds),
    InvocationType: 'SYNCHRONOUS',
    LambdaInvocationAttributes: attributes,
    ResponseValidation: { ResponseType: 'STRING_MAP' },
  },
  Transitions: { NextAction: next, Errors: onError(onFailure) },
});

/** Wraps plain text as the SSML document a bot turn's prompt is. */
const ssml = (plain: string) =>
  `<speak>${plain.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</speak>`;

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
  // Where a request for a person leads: the queue when there is one, else back to the agent.
  const toHuman = o.humanQueueArn ? ids.setQueue : ids.setNoHuman;
  const toHumanWithSummary = o.humanQueueArn ? ids.setSummary : ids.setNoHuman;
  const actions: FlowAction[] = [
    setAttributes(
      ids.setNumbers,
      {
        [a.dialledNumber]: '$.SystemEndpoint.Address',
        [a.callerNumber]: '$.CustomerEndpoint.Address',
      },
      ids.startCall,
      ids.apology,
    ),
    invokeVoiceLambda(
      ids.startCall,
      o.voiceLambdaArn,
      START_CALL_TIME_LIMIT_SECONDS,
      { operation: VOICE_OPERATIONS.startCall },
      ids.checkOutcome,
      ids.apology,
    ),
    // unknown-number, unavailable, no-tokens: the Lambda's polite message says why.
    compare(ids.checkOutcome, external('outcome'), [when('ok', ids.setVoice)], ids.refuseCall),
    {
      Identifier: ids.refuseCall,
      Type: 'MessageParticipant',
      Parameters: { SSML: external('message') },
      Transitions: {
        NextAction: o.humanQueueArn ? ids.checkRefusal : ids.disconnect,
        Errors: onError(ids.apology),
      },
    },
    {
      Identifier: ids.setVoice,
      Type: 'UpdateContactTextToSpeechVoice',
      Parameters: {
        TextToSpeechVoice: external('voiceId'),
        ...(o.textToSpeechEngine ? { TextToSpeechEngine: o.textToSpeechEngine } : {}),
      },
      // A voice Polly refuses leaves Connect's default voice: the call goes on.
      Transitions: { NextAction: ids.setLanguage, Errors: onError(ids.setLanguage) },
    },
    {
      Identifier: ids.setLanguage,
      Type: 'UpdateContactData',
      // The contact's language picks the bot's locale (en-US → en_US).
      Parameters: { LanguageCode: external('languageCode') },
      Transitions: { NextAction: ids.setGreeting, Errors: onError(ids.setGreeting) },
    },
    setAttributes(
      ids.setGreeting,
      { [a.prompt]: external('prompt'), [a.conversationId]: external('conversationId') },
      ids.botTurn,
      ids.apology,
    ),
    {
      Identifier: ids.botTurn,
      Type: 'ConnectParticipantWithLexBot',
      Parameters: {
        SSML: contactAttribute(a.prompt),
        LexV2Bot: { AliasArn: o.botAliasArn },
        LexSessionAttributes: {
          [a.dialledNumber]: contactAttribute(a.dialledNumber),
          [a.callerNumber]: contactAttribute(a.callerNumber),
          [a.conversationId]: contactAttribute(a.conversationId),
          [a.contactId]: '$.ContactId',
        },
      },
      Transitions: {
        NextAction: ids.checkEscalation,
        Conditions: [
          when(o.transferIntentName ?? DEFAULT_TRANSFER_INTENT, toHumanWithSummary),
          when(o.goodbyeIntentName ?? DEFAULT_GOODBYE_INTENT, ids.goodbye),
        ],
        Errors: [
          // A caller who stays silent is asked again by Lex itself; reaching the flow's timeout
          // means nobody is there.
          ...onError(ids.goodbye, 'InputTimeLimitExceeded'),
          // The FallbackIntent closed (the voice Lambda's code hook): escalation or a pending turn.
          ...onError(ids.checkEscalation, 'NoMatchingCondition'),
          ...onError(ids.apology, 'NoMatchingError'),
        ],
      },
    },
    compare(
      ids.checkEscalation,
      lexSession(a.escalate),
      [when('true', toHumanWithSummary)],
      ids.checkCallEnd,
    ),
    // The call ends: Lex has already spoken the code hook's closing message. Neither escalated nor
    // ended: the code hook closed the intent because the turn went on asynchronously.
    compare(ids.checkCallEnd, lexSession(a.endCall), [when('true', ids.disconnect)], ids.awaitAnswer),
    invokeVoiceLambda(
      ids.awaitAnswer,
      o.voiceLambdaArn,
      AWAIT_ANSWER_TIME_LIMIT_SECONDS,
      { operation: VOICE_OPERATIONS.awaitAnswer, turnId: lexSession(a.pendingTurn) },
      ids.checkAnswer,
      // A wait that timed out or failed counts as one more wait (bounded by the loop).
      ids.pendingLimit,
    ),
    compare(
      ids.checkAnswer,
      external('status'),
      [when('answered', ids.setAnswer), when('pending', ids.pendingLimit), when('failed', ids.setFailure)],
      ids.apology,
    ),
    setAttributes(
      ids.setAnswer,
      {
        [a.prompt]: external('prompt'),
        [a.conversationSummary]: external('conversationSummary'),
        [a.escalationReason]: external('escalationReason'),
      },
      ids.checkAnswerEscalation,
      ids.apology,
    ),
    // The summary is already on the contact (set-answer-prompt), not in the Lex session.
    compare(ids.checkAnswerEscalation, external('escalate'), [when('true', toHuman)], ids.botTurn),
    {
      Identifier: ids.pendingLimit,
      Type: 'Loop',
      // A safety net: the voice Lambda's own turn deadline answers `failed` well before it. Connect's
      // Loop counts per contact and resets only once Done, so the waits of several slow turns of one
      // call add up: a later turn may get fewer, never more, than the count.
      Parameters: { LoopCount: String(o.maxPendingWaits ?? DEFAULT_MAX_PENDING_WAITS) },
      Transitions: {
        NextAction: ids.setGaveUp,
        Conditions: [when('ContinueLooping', ids.stillWorking), when('DoneLooping', ids.setGaveUp)],
      },
    },
    say(ids.stillWorking, o.stillWorkingMessage ?? 'Still working on it, one moment.', ids.awaitAnswer),
    setAttributes(
      ids.setGaveUp,
      {
        [a.prompt]: ssml(
          o.gaveUpMessage ?? 'Sorry, that is taking too long. Could you ask me again, perhaps more simply?',
        ),
      },
      ids.botTurn,
      ids.apology,
    ),
    setAttributes(ids.setFailure, { [a.prompt]: external('prompt') }, ids.botTurn, ids.apology),
  ];
  if (o.humanQueueArn) {
    actions.push(
      // A tenant out of tokens still has people who can take the call.
      compare(ids.checkRefusal, external('outcome'), [when('no-tokens', ids.setQueue)], ids.disconnect),
      setAttributes(
        ids.setSummary,
        {
          [a.conversationId]: lexSession(a.conversationId),
          [a.conversationSummary]: lexSession(a.conversationSummary),
          [a.escalationReason]: lexSession(a.escalationReason),
        },
        // A caller who asked for a person still gets one when the summary could not be copied.
        ids.setQueue,
        ids.setQueue,
      ),
      {
        Identifier: ids.setQueue,
        Type: 'UpdateContactTargetQueue',
        Parameters: { QueueId: o.humanQueueArn },
        Transitions: { NextAction: ids.announceTransfer, Errors: onError(ids.apology) },
      },
      say(
        ids.announceTransfer,
        o.transferMessage ?? 'Let me connect you with a person. Please hold.',
        ids.transfer,
      ),
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
      say(
        ids.queueFull,
        'Everyone who could help is busy right now. Please call back a little later.',
        ids.disconnect,
      ),
    );
  } else {
    actions.push(
      setAttributes(
        ids.setNoHuman,
        {
          [a.prompt]: ssml(
            o.noHumanMessage ??
              'I am sorry, nobody else can take this call right now. I will do my best to help: what do you need?',
          ),
        },
        ids.botTurn,
        ids.apology,
      ),
    );
  }
  actions.push(
    say(ids.goodbye, o.goodbyeMessage ?? 'Thank you for calling. Goodbye.', ids.disconnect),
    say(
      ids.apology,
      o.apologyMessage ??
        'Sorry, something went wrong on our side and we cannot continue this call. Please call again later.',
      ids.disconnect,
    ),
    { Identifier: ids.disconnect, Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
  );
  return { Version: CONTACT_FLOW_VERSION, StartAction: ids.setNumbers, Actions: actions };
}
