import { ValidationError } from '../shared/errors';
import {
  AWAIT_ANSWER_STATUSES,
  type ContactFlowDocument,
  type ContactFlowOptions,
  contactFlow,
  DEFAULT_MAX_PENDING_WAITS,
  DEFAULT_TRANSFER_INTENT,
  FLOW_ACTION_IDS,
  type FlowAction,
  isDeployTimeValue,
  START_CALL_OUTCOMES,
  VOICE_ATTRIBUTES,
} from './contact-flow';

const botAliasArn = 'arn:aws:lex:eu-west-1:123456789012:bot-alias/ABCDEFGHIJ/TSTALIASID';
const humanQueueArn =
  'arn:aws:connect:eu-west-1:123456789012:instance/11111111-2222-3333-4444-555555555555/queue/66666666-7777-8888-9999-000000000000';
const voiceLambdaArn = 'arn:aws:lambda:eu-west-1:123456789012:function:agent-platform-dev-voice';
const options: ContactFlowOptions = { voiceLambdaArn, botAliasArn, humanQueueArn };
const withoutQueue: ContactFlowOptions = { voiceLambdaArn, botAliasArn };

/**
 * What the Flow language reference documents for each action type this flow may use: the
 * parameters it must carry (one of `oneOf` when several are alternatives), the error types it
 * raises, and whether it takes Conditions.
 */
const documentedActions: Record<
  string,
  {
    required: readonly string[];
    oneOf?: readonly string[];
    errors: readonly string[];
    conditions: boolean;
    terminal?: boolean;
  }
> = {
  InvokeLambdaFunction: {
    required: ['LambdaFunctionARN', 'InvocationTimeLimitSeconds', 'InvocationType', 'ResponseValidation'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  UpdateContactTextToSpeechVoice: {
    required: ['TextToSpeechVoice'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  UpdateContactData: {
    required: [],
    oneOf: ['LanguageCode'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  Loop: { required: ['LoopCount'], errors: [], conditions: true },
  UpdateContactAttributes: {
    required: ['Attributes', 'TargetContact'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  MessageParticipant: {
    required: [],
    oneOf: ['Text', 'SSML', 'PromptId', 'Media'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  ConnectParticipantWithLexBot: {
    required: ['LexV2Bot'],
    errors: ['InputTimeLimitExceeded', 'NoMatchingError', 'NoMatchingCondition'],
    conditions: true,
  },
  Compare: { required: ['ComparisonValue'], errors: ['NoMatchingCondition'], conditions: true },
  UpdateContactTargetQueue: {
    required: [],
    oneOf: ['QueueId', 'AgentId'],
    errors: ['NoMatchingError'],
    conditions: false,
  },
  TransferContactToQueue: {
    required: [],
    errors: ['QueueAtCapacity', 'NoMatchingError'],
    conditions: false,
  },
  DisconnectParticipant: { required: [], errors: [], conditions: false, terminal: true },
};

const forbiddenIdentifierCharacters = /[%:(\\/)=$,;[\]{}]/;

function targetsOf(action: FlowAction): string[] {
  const t = action.Transitions;
  return [
    ...(t.NextAction ? [t.NextAction] : []),
    ...(t.Conditions ?? []).map((c) => c.NextAction),
    ...(t.Errors ?? []).map((e) => e.NextAction),
  ];
}

function byId(flow: ContactFlowDocument, id: string): FlowAction {
  const action = flow.Actions.find((a) => a.Identifier === id);
  if (!action) throw new Error(`no action ${id}`);
  return action;
}

/** Every identifier reachable from `from`, optionally never passing through `avoiding`. */
function reachable(flow: ContactFlowDocument, from: string, avoiding?: string): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id) || id === avoiding) continue;
    seen.add(id);
    queue.push(...targetsOf(byId(flow, id)));
  }
  return seen;
}

/** Whether some path leads from `from` to `to`. */
function pathExists(flow: ContactFlowDocument, from: string, to: string): boolean {
  return reachable(flow, from).has(to);
}

/** What the caller, Lex and the voice Lambda do in one scripted call, for `walk`. */
interface CallScript {
  /** The voice Lambda's flat answer to an operation, or 'error' (timeout, throttle). */
  lambda: (operation: string, attributes: Record<string, string>) => Record<string, string> | 'error';
  /** How each bot turn ends: the closed intent and the session attributes, or the caller's silence. */
  bot: (spokenSsml: string) => { intent: string; session?: Record<string, string> } | 'timeout';
}

interface CallRecord {
  /** Every action run, in order. */
  readonly path: string[];
  /** What the caller heard: `text:` for Text, `ssml:` for SSML. */
  readonly heard: string[];
  readonly attributes: Record<string, string>;
  /** How the flow ended: the last action's type. */
  readonly end: string;
  readonly invocations: { operation: string; attributes: Record<string, string> }[];
}

/**
 * A small interpreter of the action types the template uses, enough to follow a scripted call
 * through the document: values are read from `$.External`, `$.Attributes` and
 * `$.Lex.SessionAttributes` as Connect would.
 */
function walk(flow: ContactFlowDocument, script: CallScript, maxSteps = 300): CallRecord {
  const path: string[] = [];
  const heard: string[] = [];
  const invocations: CallRecord['invocations'] = [];
  const attributes: Record<string, string> = {};
  let externalValues: Record<string, string> = {};
  let session: Record<string, string> = {};
  const loops = new Map<string, number>();
  const resolve = (value: string): string => {
    const [, scope, name] = /^\$\.(External|Attributes|Lex\.SessionAttributes)\.(\w+)$/.exec(value) ?? [];
    if (scope === 'External') return externalValues[name as string] ?? '';
    if (scope === 'Attributes') return attributes[name as string] ?? '';
    if (scope === 'Lex.SessionAttributes') return session[name as string] ?? '';
    if (value === '$.SystemEndpoint.Address') return '+15550100001';
    if (value === '$.CustomerEndpoint.Address') return '+15550100999';
    if (value === '$.ContactId') return 'contact-1';
    return value;
  };
  const onErrorType = (action: FlowAction, type: string) => {
    const target = action.Transitions.Errors?.find((e) => e.ErrorType === type)?.NextAction;
    if (!target) throw new Error(`${action.Identifier}: no transition for ${type}`);
    return target;
  };
  const matching = (action: FlowAction, value: string) =>
    action.Transitions.Conditions?.find((c) => c.Condition.Operands.includes(value))?.NextAction ??
    onErrorType(action, 'NoMatchingCondition');
  let id = flow.StartAction;
  for (let step = 0; step < maxSteps; step++) {
    const action = byId(flow, id);
    path.push(id);
    const p = action.Parameters as Record<string, unknown>;
    const next = action.Transitions.NextAction as string;
    switch (action.Type) {
      case 'DisconnectParticipant':
      case 'TransferContactToQueue':
        return { path, heard, attributes, end: action.Type, invocations };
      case 'UpdateContactAttributes':
        for (const [key, value] of Object.entries(p.Attributes as Record<string, string>)) {
          attributes[key] = resolve(value);
        }
        id = next;
        break;
      case 'MessageParticipant':
        heard.push(p.SSML !== undefined ? `ssml:${resolve(p.SSML as string)}` : `text:${p.Text as string}`);
        id = next;
        break;
      case 'InvokeLambdaFunction': {
        const sent = Object.fromEntries(
          Object.entries(p.LambdaInvocationAttributes as Record<string, string>).map(([k, v]) => [
            k,
            resolve(v),
          ]),
        );
        invocations.push({ operation: sent.operation as string, attributes: sent });
        const answer = script.lambda(sent.operation as string, sent);
        if (answer === 'error') {
          id = onErrorType(action, 'NoMatchingError');
        } else {
          externalValues = answer;
          id = next;
        }
        break;
      }
      case 'Compare':
        id = matching(action, resolve(p.ComparisonValue as string));
        break;
      case 'Loop': {
        const count = Number(p.LoopCount);
        const done = loops.get(id) ?? 0;
        if (done < count) {
          loops.set(id, done + 1);
          id = matching(action, 'ContinueLooping');
        } else {
          loops.set(id, 0);
          id = matching(action, 'DoneLooping');
        }
        break;
      }
      case 'ConnectParticipantWithLexBot': {
        const spokenSsml = resolve(p.SSML as string);
        heard.push(`ssml:${spokenSsml}`);
        for (const [key, value] of Object.entries(p.LexSessionAttributes as Record<string, string>)) {
          session[key] = resolve(value);
        }
        const outcome = script.bot(spokenSsml);
        if (outcome === 'timeout') {
          id = onErrorType(action, 'InputTimeLimitExceeded');
        } else {
          session = { ...session, ...outcome.session };
          id = matching(action, outcome.intent);
        }
        break;
      }
      default:
        id = next;
    }
  }
  throw new Error(`the call did not end within ${maxSteps} steps: ${path.slice(-20).join(' → ')}`);
}

const started = {
  outcome: 'ok',
  prompt: '<speak>Hello, this is Acme.</speak>',
  voiceId: 'Matthew',
  languageCode: 'en-US',
  conversationId: 'conv-1',
  message: '',
};

function structureChecks(name: string, flowOptions: ContactFlowOptions) {
  describe(`structure (${name})`, () => {
    const flow = contactFlow(flowOptions);

    it('is a Flow language document whose StartAction exists', () => {
      expect(flow.Version).toBe('2019-10-30');
      expect(flow.Actions.map((a) => a.Identifier)).toContain(flow.StartAction);
      // Survives the JSON round trip the Connect API and CloudFormation put it through.
      expect(JSON.parse(JSON.stringify(flow))).toEqual(flow);
      expect(flow.Actions.length).toBeLessThanOrEqual(250);
    });

    it('has unique identifiers that Connect accepts', () => {
      const identifiers = flow.Actions.map((a) => a.Identifier);
      expect(new Set(identifiers).size).toBe(identifiers.length);
      for (const id of identifiers) {
        expect(id.length).toBeLessThanOrEqual(50);
        expect(id).not.toMatch(forbiddenIdentifierCharacters);
      }
    });

    it('has no dangling transition: every NextAction, Condition and Error target exists', () => {
      const identifiers = new Set(flow.Actions.map((a) => a.Identifier));
      for (const action of flow.Actions) {
        for (const target of targetsOf(action)) {
          expect({ from: action.Identifier, target, exists: identifiers.has(target) }).toEqual({
            from: action.Identifier,
            target,
            exists: true,
          });
        }
      }
    });

    it('has no unreachable action', () => {
      const seen = reachable(flow, flow.StartAction);
      expect(flow.Actions.map((a) => a.Identifier).filter((id) => !seen.has(id))).toEqual([]);
    });

    it('uses only documented action types, with their required parameters and error types', () => {
      for (const action of flow.Actions) {
        const doc = documentedActions[action.Type];
        if (!doc) throw new Error(`${action.Identifier}: undocumented action type ${action.Type}`);
        for (const parameter of doc.required) expect(action.Parameters).toHaveProperty(parameter);
        if (doc.oneOf) {
          const present = doc.oneOf.filter((p) => p in action.Parameters);
          expect({ id: action.Identifier, present: present.length }).toEqual({
            id: action.Identifier,
            present: 1,
          });
        }
        for (const error of action.Transitions.Errors ?? []) {
          expect(doc.errors).toContain(error.ErrorType);
        }
        if (!doc.conditions) expect(action.Transitions.Conditions).toBeUndefined();
        for (const condition of action.Transitions.Conditions ?? []) {
          expect(condition.Condition.Operator).toBe('Equals');
          expect(condition.Condition.Operands.length).toBeGreaterThan(0);
        }
        if (doc.terminal) {
          expect(action.Transitions).toEqual({});
        } else {
          // Every non-terminal action goes somewhere on success and handles each error it can raise.
          expect(action.Transitions.NextAction).toBeDefined();
          const handled = (action.Transitions.Errors ?? []).map((e) => e.ErrorType).sort();
          expect({ id: action.Identifier, handled }).toEqual({
            id: action.Identifier,
            handled: [...doc.errors].sort(),
          });
        }
      }
    });

    it('invokes the voice Lambda synchronously within Connect’s limits, expecting a flat string map', () => {
      const invocations = flow.Actions.filter((a) => a.Type === 'InvokeLambdaFunction');
      expect(invocations.map((a) => a.Identifier).sort()).toEqual(
        [FLOW_ACTION_IDS.startCall, FLOW_ACTION_IDS.awaitAnswer].sort(),
      );
      for (const action of invocations) {
        expect(action.Parameters).toMatchObject({
          LambdaFunctionARN: flowOptions.voiceLambdaArn,
          InvocationType: 'SYNCHRONOUS',
          ResponseValidation: { ResponseType: 'STRING_MAP' },
        });
        const seconds = Number(action.Parameters.InvocationTimeLimitSeconds);
        expect(Number.isInteger(seconds) && seconds > 0 && seconds <= 8).toBe(true);
      }
    });

    it('a Loop has exactly the ContinueLooping and DoneLooping conditions, with a count in 0-100', () => {
      for (const action of flow.Actions.filter((a) => a.Type === 'Loop')) {
        expect(action.Transitions.Conditions?.map((c) => c.Condition.Operands[0]).sort()).toEqual([
          'ContinueLooping',
          'DoneLooping',
        ]);
        const count = Number(action.Parameters.LoopCount);
        expect(Number.isInteger(count) && count >= 0 && count <= 100).toBe(true);
      }
    });

    it('every action can reach a hang-up (no dead end)', () => {
      for (const action of flow.Actions) {
        expect({
          id: action.Identifier,
          ends: pathExists(flow, action.Identifier, FLOW_ACTION_IDS.disconnect),
        }).toEqual({ id: action.Identifier, ends: true });
      }
    });
  });
}

describe('contactFlow', () => {
  const flow = contactFlow(options);

  structureChecks('with a human queue', options);
  structureChecks('without a human queue', withoutQueue);

  it('sets the numbers, then asks the voice Lambda to start the call', () => {
    const setNumbers = byId(flow, flow.StartAction);
    expect(setNumbers.Parameters).toEqual({
      TargetContact: 'Current',
      Attributes: {
        [VOICE_ATTRIBUTES.dialledNumber]: '$.SystemEndpoint.Address',
        [VOICE_ATTRIBUTES.callerNumber]: '$.CustomerEndpoint.Address',
      },
    });
    expect(setNumbers.Transitions.NextAction).toBe(FLOW_ACTION_IDS.startCall);
    expect(byId(flow, FLOW_ACTION_IDS.startCall).Parameters).toEqual({
      LambdaFunctionARN: voiceLambdaArn,
      InvocationTimeLimitSeconds: '3',
      InvocationType: 'SYNCHRONOUS',
      LambdaInvocationAttributes: { operation: 'start-call' },
      ResponseValidation: { ResponseType: 'STRING_MAP' },
    });
    // Run once, first: nothing leads back to them.
    const into = (id: string) =>
      flow.Actions.filter((a) => targetsOf(a).includes(id)).map((a) => a.Identifier);
    expect(into(FLOW_ACTION_IDS.setNumbers)).toEqual([]);
    expect(into(FLOW_ACTION_IDS.startCall)).toEqual([FLOW_ACTION_IDS.setNumbers]);
  });

  it('a started call: the agent’s voice and language, then the greeting spoken as SSML by the bot with the call’s session attributes', () => {
    const call = walk(flow, {
      lambda: () => started,
      bot: () => ({ intent: 'Goodbye' }),
    });
    expect(call.path.slice(0, 8)).toEqual([
      FLOW_ACTION_IDS.setNumbers,
      FLOW_ACTION_IDS.startCall,
      FLOW_ACTION_IDS.checkOutcome,
      FLOW_ACTION_IDS.setVoice,
      FLOW_ACTION_IDS.setLanguage,
      FLOW_ACTION_IDS.setGreeting,
      FLOW_ACTION_IDS.botTurn,
      FLOW_ACTION_IDS.goodbye,
    ]);
    expect(byId(flow, FLOW_ACTION_IDS.setVoice).Parameters).toEqual({
      TextToSpeechVoice: '$.External.voiceId',
    });
    expect(byId(flow, FLOW_ACTION_IDS.setLanguage).Parameters).toEqual({
      LanguageCode: '$.External.languageCode',
    });
    expect(call.heard[0]).toBe(`ssml:${started.prompt}`);
    expect(call.attributes).toMatchObject({
      prompt: started.prompt,
      conversationId: 'conv-1',
      dialledNumber: '+15550100001',
      callerNumber: '+15550100999',
    });
    const bot = byId(flow, FLOW_ACTION_IDS.botTurn);
    expect(bot.Parameters).toEqual({
      SSML: '$.Attributes.prompt',
      LexV2Bot: { AliasArn: botAliasArn },
      LexSessionAttributes: {
        dialledNumber: '$.Attributes.dialledNumber',
        callerNumber: '$.Attributes.callerNumber',
        conversationId: '$.Attributes.conversationId',
        contactId: '$.ContactId',
      },
    });
    expect(call.end).toBe('DisconnectParticipant');
    expect(call.heard.at(-1)).toBe('text:Thank you for calling. Goodbye.');
  });

  it('a voice Polly refuses or a language Connect refuses does not end the call', () => {
    for (const id of [FLOW_ACTION_IDS.setVoice, FLOW_ACTION_IDS.setLanguage]) {
      const action = byId(flow, id);
      expect(action.Transitions.Errors?.[0]?.NextAction).toBe(action.Transitions.NextAction);
    }
    const neural = contactFlow({ ...options, textToSpeechEngine: 'neural' });
    expect(byId(neural, FLOW_ACTION_IDS.setVoice).Parameters).toEqual({
      TextToSpeechVoice: '$.External.voiceId',
      TextToSpeechEngine: 'neural',
    });
  });

  describe('a call that cannot start speaks the Lambda’s message', () => {
    const refused = (outcome: string, flowOptions: ContactFlowOptions = options) =>
      walk(contactFlow(flowOptions), {
        lambda: () => ({ outcome, message: `<speak>${outcome}</speak>` }),
        bot: () => {
          throw new Error('no bot turn on a refused call');
        },
      });

    it.each(['unknown-number', 'unavailable'])('%s: message, then hang up', (outcome) => {
      const call = refused(outcome);
      expect(call.heard).toEqual([`ssml:<speak>${outcome}</speak>`]);
      expect(call.end).toBe('DisconnectParticipant');
      expect(call.path).not.toContain(FLOW_ACTION_IDS.botTurn);
    });

    it('no-tokens: message, then the human queue when there is one', () => {
      const call = refused('no-tokens');
      expect(call.heard[0]).toBe('ssml:<speak>no-tokens</speak>');
      expect(call.path).toContain(FLOW_ACTION_IDS.setQueue);
      expect(call.end).toBe('TransferContactToQueue');
    });

    it('no-tokens without a queue: message, then hang up', () => {
      const call = refused('no-tokens', withoutQueue);
      expect(call.end).toBe('DisconnectParticipant');
    });

    it('every documented outcome has a way out, and a failed start-call is an apology', () => {
      for (const outcome of START_CALL_OUTCOMES.filter((o) => o !== 'ok'))
        expect(refused(outcome).end).toMatch(/Disconnect|Transfer/);
      const failed = walk(flow, { lambda: () => 'error', bot: () => 'timeout' });
      expect(failed.heard).toEqual([expect.stringMatching(/^text:Sorry/)]);
      expect(failed.end).toBe('DisconnectParticipant');
    });
  });

  it('a slow turn: the filler closed the intent with pendingTurn; the flow waits for the answer and the bot speaks it', () => {
    let turn = 0;
    let waits = 0;
    const call = walk(flow, {
      lambda: (operation) => {
        if (operation === 'start-call') return started;
        waits++;
        return waits < 3
          ? { status: 'pending', prompt: '', escalate: 'false' }
          : { status: 'answered', prompt: '<speak>Your table is booked.</speak>', escalate: 'false' };
      },
      bot: () => {
        turn++;
        if (turn === 1) return { intent: 'FallbackIntent', session: { pendingTurn: 'turn-1' } };
        return { intent: 'Goodbye' };
      },
    });
    expect(call.invocations.filter((i) => i.operation === 'await-answer')).toEqual(
      Array.from({ length: 3 }, () => ({
        operation: 'await-answer',
        attributes: { operation: 'await-answer', turnId: 'turn-1' },
      })),
    );
    expect(call.heard).toEqual([
      `ssml:${started.prompt}`,
      'text:Still working on it, one moment.',
      'text:Still working on it, one moment.',
      'ssml:<speak>Your table is booked.</speak>',
      'text:Thank you for calling. Goodbye.',
    ]);
    expect(byId(flow, FLOW_ACTION_IDS.awaitAnswer).Parameters.InvocationTimeLimitSeconds).toBe('8');
  });

  it('an answer that never comes is given up after the bounded waits, and the caller is asked again', () => {
    let turn = 0;
    const call = walk(flow, {
      lambda: (operation) => (operation === 'start-call' ? started : 'error'),
      bot: () =>
        ++turn === 1
          ? { intent: 'FallbackIntent', session: { pendingTurn: 'turn-1' } }
          : { intent: 'Goodbye' },
    });
    expect(call.invocations.filter((i) => i.operation === 'await-answer')).toHaveLength(
      DEFAULT_MAX_PENDING_WAITS + 1,
    );
    expect(call.heard.filter((h) => h.startsWith('text:Still working'))).toHaveLength(
      DEFAULT_MAX_PENDING_WAITS,
    );
    expect(call.heard.at(-2)).toMatch(/^ssml:<speak>Sorry, that is taking too long/);
    expect(call.end).toBe('DisconnectParticipant');
    const fewer = contactFlow({ ...options, maxPendingWaits: 2 });
    expect(byId(fewer, FLOW_ACTION_IDS.pendingLimit).Parameters).toEqual({ LoopCount: '2' });
  });

  it('a failed turn speaks the Lambda’s polite prompt and goes on with the bot', () => {
    let turn = 0;
    const call = walk(flow, {
      lambda: (operation) =>
        operation === 'start-call'
          ? started
          : { status: 'failed', prompt: '<speak>Sorry, say again?</speak>', escalate: 'false' },
      bot: () =>
        ++turn === 1 ? { intent: 'FallbackIntent', session: { pendingTurn: 't' } } : { intent: 'Goodbye' },
    });
    expect(call.heard).toContain('ssml:<speak>Sorry, say again?</speak>');
    expect(call.path.filter((id) => id === FLOW_ACTION_IDS.botTurn)).toHaveLength(2);
    for (const status of AWAIT_ANSWER_STATUSES) {
      expect(
        byId(flow, FLOW_ACTION_IDS.checkAnswer).Transitions.Conditions?.some((c) =>
          c.Condition.Operands.includes(status),
        ),
      ).toBe(true);
    }
  });

  describe('transfer to a person', () => {
    const transferred = (bot: CallScript['bot'], awaitAnswer?: Record<string, string>) =>
      walk(flow, {
        lambda: (operation) => (operation === 'start-call' ? started : (awaitAnswer ?? 'error')),
        bot,
      });

    it('when the caller asks (the transfer intent: DTMF 0 or words), with the summary as contact attributes', () => {
      const call = transferred(() => ({
        intent: DEFAULT_TRANSFER_INTENT,
        session: { conversationSummary: 'Wants a refund', escalationReason: 'caller asked' },
      }));
      expect(call.end).toBe('TransferContactToQueue');
      expect(call.attributes).toMatchObject({
        conversationId: 'conv-1',
        conversationSummary: 'Wants a refund',
        escalationReason: 'caller asked',
      });
      expect(call.heard.at(-1)).toBe('text:Let me connect you with a person. Please hold.');
      expect(byId(flow, FLOW_ACTION_IDS.setQueue).Parameters).toEqual({ QueueId: humanQueueArn });
    });

    it('when the agent escalates in the code hook (escalate=true)', () => {
      const call = transferred(() => ({
        intent: 'FallbackIntent',
        session: { escalate: 'true', conversationSummary: 'Angry', escalationReason: 'complaint' },
      }));
      expect(call.end).toBe('TransferContactToQueue');
      expect(call.attributes).toMatchObject({ conversationSummary: 'Angry', escalationReason: 'complaint' });
      expect(call.invocations.map((i) => i.operation)).toEqual(['start-call']);
    });

    it('when the agent escalates in a pending turn’s answer', () => {
      const call = transferred(() => ({ intent: 'FallbackIntent', session: { pendingTurn: 't' } }), {
        status: 'answered',
        prompt: '<speak>Let me find someone.</speak>',
        escalate: 'true',
        conversationSummary: 'Needs a manager',
        escalationReason: 'policy',
      });
      expect(call.end).toBe('TransferContactToQueue');
      expect(call.attributes).toMatchObject({
        conversationSummary: 'Needs a manager',
        escalationReason: 'policy',
      });
    });

    it('the transfer cannot be reached without the target queue being set first', () => {
      expect(reachable(flow, flow.StartAction, FLOW_ACTION_IDS.setQueue).has(FLOW_ACTION_IDS.transfer)).toBe(
        false,
      );
      expect(byId(flow, FLOW_ACTION_IDS.transfer).Transitions.Errors).toEqual([
        { ErrorType: 'QueueAtCapacity', NextAction: FLOW_ACTION_IDS.queueFull },
        { ErrorType: 'NoMatchingError', NextAction: FLOW_ACTION_IDS.apology },
      ]);
    });

    it('without a queue the caller stays with the agent and hears why', () => {
      const noQueue = contactFlow(withoutQueue);
      expect(
        noQueue.Actions.some(
          (a) => a.Type === 'TransferContactToQueue' || a.Type === 'UpdateContactTargetQueue',
        ),
      ).toBe(false);
      let turn = 0;
      const call = walk(noQueue, {
        lambda: () => started,
        bot: () => (++turn === 1 ? { intent: DEFAULT_TRANSFER_INTENT } : { intent: 'Goodbye' }),
      });
      expect(call.heard[1]).toMatch(/^ssml:<speak>I am sorry, nobody else can take this call/);
      expect(call.end).toBe('DisconnectParticipant');
    });
  });

  it('hangs up when the code hook ended the call (endCall=true), after Lex spoke its closing message', () => {
    const call = walk(flow, {
      lambda: () => started,
      bot: () => ({ intent: 'FallbackIntent', session: { endCall: 'true' } }),
    });
    expect(call.path.slice(-3)).toEqual([
      FLOW_ACTION_IDS.checkEscalation,
      FLOW_ACTION_IDS.checkCallEnd,
      FLOW_ACTION_IDS.disconnect,
    ]);
    expect(call.invocations.map((i) => i.operation)).toEqual(['start-call']);
  });

  it('honours custom intent names and messages', () => {
    const custom = contactFlow({
      ...options,
      transferIntentName: 'SpeakToSomeone',
      goodbyeMessage: 'Bye from Acme.',
    });
    const conditions = byId(custom, FLOW_ACTION_IDS.botTurn).Transitions.Conditions ?? [];
    expect(conditions.find((c) => c.NextAction === FLOW_ACTION_IDS.setSummary)?.Condition).toEqual({
      Operator: 'Equals',
      Operands: ['SpeakToSomeone'],
    });
    expect(byId(custom, FLOW_ACTION_IDS.goodbye).Parameters).toEqual({ Text: 'Bye from Acme.' });
  });

  it('says goodbye and disconnects when the caller is silent', () => {
    const call = walk(flow, { lambda: () => started, bot: () => 'timeout' });
    expect(call.heard.at(-1)).toBe('text:Thank you for calling. Goodbye.');
    expect(call.end).toBe('DisconnectParticipant');
  });

  it('sends failures to a spoken apology before hanging up', () => {
    for (const id of [
      FLOW_ACTION_IDS.setNumbers,
      FLOW_ACTION_IDS.startCall,
      FLOW_ACTION_IDS.setGreeting,
      FLOW_ACTION_IDS.botTurn,
      FLOW_ACTION_IDS.setQueue,
      FLOW_ACTION_IDS.transfer,
    ]) {
      const failure = byId(flow, id).Transitions.Errors?.find((e) => e.ErrorType === 'NoMatchingError');
      expect({ id, next: failure?.NextAction }).toEqual({ id, next: FLOW_ACTION_IDS.apology });
    }
    expect(byId(flow, FLOW_ACTION_IDS.apology)).toMatchObject({
      Type: 'MessageParticipant',
      Parameters: { Text: expect.stringMatching(/sorry/i) },
      Transitions: { NextAction: FLOW_ACTION_IDS.disconnect },
    });
  });

  describe('deploy-time ARNs (CDK tokens)', () => {
    const tokens = {
      voiceLambdaArn: `\${Token[TOKEN.101]}`,
      botAliasArn: `\${Token[TOKEN.102]}`,
      humanQueueArn: `arn:\${Token[AWS.Partition.7]}:connect:eu-west-1:\${Token[AWS.AccountId.8]}:instance/x/queue/\${Token[TOKEN.103]}`,
    };

    it('are recognised and placed where the literal ARNs go', () => {
      expect(isDeployTimeValue(tokens.voiceLambdaArn)).toBe(true);
      expect(isDeployTimeValue(voiceLambdaArn)).toBe(false);
      const deployed = contactFlow(tokens);
      expect(byId(deployed, FLOW_ACTION_IDS.startCall).Parameters.LambdaFunctionARN).toBe(
        tokens.voiceLambdaArn,
      );
      expect(byId(deployed, FLOW_ACTION_IDS.botTurn).Parameters.LexV2Bot).toEqual({
        AliasArn: tokens.botAliasArn,
      });
      expect(byId(deployed, FLOW_ACTION_IDS.setQueue).Parameters).toEqual({ QueueId: tokens.humanQueueArn });
    });
  });

  describe('refuses bad options with an error naming the field', () => {
    const refused = (bad: Partial<Record<keyof ContactFlowOptions, unknown>>, field: string) => {
      let error: unknown;
      try {
        contactFlow({ ...options, ...bad } as ContactFlowOptions);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      const validation = error as ValidationError;
      expect(validation.issues.map((i) => i.field)).toContain(field);
      expect(validation.message).toContain(field);
    };

    it('a voice Lambda that is not a Lambda function ARN, or is missing', () => {
      refused({ voiceLambdaArn: 'agent-platform-dev-voice' }, 'voiceLambdaArn');
      refused({ voiceLambdaArn: botAliasArn }, 'voiceLambdaArn');
      refused({ voiceLambdaArn: undefined }, 'voiceLambdaArn');
    });
    it('a bot alias that is not a Lex V2 bot alias ARN', () => {
      refused({ botAliasArn: 'TSTALIASID' }, 'botAliasArn');
      refused({ botAliasArn: humanQueueArn }, 'botAliasArn');
    });
    it('a queue that is not a Connect queue ARN', () => {
      refused({ humanQueueArn: 'BasicQueue' }, 'humanQueueArn');
      refused({ humanQueueArn: botAliasArn }, 'humanQueueArn');
    });
    it('an intent name Lex would not accept', () => {
      refused({ transferIntentName: 'talk to a person' }, 'transferIntentName');
    });
    it('a blank message, or a wait bound out of range', () => {
      refused({ goodbyeMessage: '   ' }, 'goodbyeMessage');
      refused({ maxPendingWaits: 0 }, 'maxPendingWaits');
      refused({ maxPendingWaits: 2.5 }, 'maxPendingWaits');
    });
  });

  it('escapes plain defaults into SSML and trims the messages it speaks', () => {
    const trimmed = contactFlow({ ...options, goodbyeMessage: '  Bye.  ' });
    expect(byId(trimmed, FLOW_ACTION_IDS.goodbye).Parameters).toEqual({ Text: 'Bye.' });
  });
});
