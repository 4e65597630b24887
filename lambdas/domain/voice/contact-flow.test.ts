import { ValidationError } from '../shared/errors';
import {
  type ContactFlowDocument,
  type ContactFlowOptions,
  contactFlow,
  DEFAULT_TRANSFER_INTENT,
  FLOW_ACTION_IDS,
  type FlowAction,
  VOICE_ATTRIBUTES,
} from './contact-flow';

const botAliasArn = 'arn:aws:lex:eu-west-1:123456789012:bot-alias/ABCDEFGHIJ/TSTALIASID';
const humanQueueArn =
  'arn:aws:connect:eu-west-1:123456789012:instance/11111111-2222-3333-4444-555555555555/queue/66666666-7777-8888-9999-000000000000';
const options: ContactFlowOptions = {
  greeting: 'Hello, you are speaking with the Acme booking assistant.',
  botAliasArn,
  humanQueueArn,
};

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

describe('contactFlow', () => {
  const flow = contactFlow(options);

  it('is a Flow language document whose StartAction exists', () => {
    expect(flow.Version).toBe('2019-10-30');
    expect(flow.Actions.map((a) => a.Identifier)).toContain(flow.StartAction);
    // Survives the JSON round trip the Connect API and CloudFormation put it through.
    expect(JSON.parse(JSON.stringify(flow))).toEqual(flow);
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

  it('every path ends in a disconnect or a transfer (no dead end)', () => {
    for (const action of flow.Actions) {
      if (action.Type === 'DisconnectParticipant') continue;
      expect({ id: action.Identifier, targets: targetsOf(action).length > 0 }).toEqual({
        id: action.Identifier,
        targets: true,
      });
    }
    for (const action of flow.Actions) {
      expect(pathExists(flow, action.Identifier, FLOW_ACTION_IDS.disconnect)).toBe(true);
    }
  });

  it('sets the dialled and calling numbers before the first bot turn and hands them to the bot', () => {
    const setNumbers = byId(flow, flow.StartAction);
    expect(setNumbers.Type).toBe('UpdateContactAttributes');
    expect(setNumbers.Parameters).toEqual({
      TargetContact: 'Current',
      Attributes: {
        [VOICE_ATTRIBUTES.dialledNumber]: '$.SystemEndpoint.Address',
        [VOICE_ATTRIBUTES.callerNumber]: '$.CustomerEndpoint.Address',
      },
    });
    const bot = byId(flow, FLOW_ACTION_IDS.botTurn);
    expect(bot.Parameters.LexSessionAttributes).toEqual({
      dialledNumber: '$.Attributes.dialledNumber',
      callerNumber: '$.Attributes.callerNumber',
    });
    // Set once, first: nothing leads back to it, and the bot is only reached through it.
    expect(flow.Actions.filter((a) => targetsOf(a).includes(FLOW_ACTION_IDS.setNumbers))).toEqual([]);
    expect(setNumbers.Transitions.NextAction).toBe(FLOW_ACTION_IDS.greet);
  });

  it('greets with the agent greeting, then hands the caller to the bot alias given', () => {
    const greet = byId(flow, FLOW_ACTION_IDS.greet);
    expect(greet).toMatchObject({
      Type: 'MessageParticipant',
      Parameters: { Text: options.greeting },
      Transitions: { NextAction: FLOW_ACTION_IDS.botTurn },
    });
    expect(byId(flow, FLOW_ACTION_IDS.setNumbers).Transitions.NextAction).toBe(FLOW_ACTION_IDS.greet);
    const bots = flow.Actions.filter((a) => a.Type === 'ConnectParticipantWithLexBot');
    expect(bots.map((b) => b.Parameters.LexV2Bot)).toEqual([{ AliasArn: botAliasArn }]);
  });

  it('loops back to the bot after a turn that neither transfers nor ends the call', () => {
    const bot = byId(flow, FLOW_ACTION_IDS.botTurn);
    const afterTurn = bot.Transitions.Errors?.find((e) => e.ErrorType === 'NoMatchingCondition')?.NextAction;
    expect(afterTurn).toBe(FLOW_ACTION_IDS.checkEscalation);
    const check = byId(flow, FLOW_ACTION_IDS.checkEscalation);
    expect(check.Parameters).toEqual({ ComparisonValue: '$.Lex.SessionAttributes.escalate' });
    expect(check.Transitions.Errors).toEqual([
      { ErrorType: 'NoMatchingCondition', NextAction: FLOW_ACTION_IDS.botTurn },
    ]);
  });

  it('transfers to the human queue given when the caller asks (DTMF 0 or words) or the agent escalates', () => {
    const bot = byId(flow, FLOW_ACTION_IDS.botTurn);
    const onTransferIntent = bot.Transitions.Conditions?.find((c) =>
      c.Condition.Operands.includes(DEFAULT_TRANSFER_INTENT),
    );
    expect(onTransferIntent?.NextAction).toBe(FLOW_ACTION_IDS.setSummary);
    const check = byId(flow, FLOW_ACTION_IDS.checkEscalation);
    expect(check.Transitions.Conditions).toEqual([
      {
        NextAction: FLOW_ACTION_IDS.setSummary,
        Condition: { Operator: 'Equals', Operands: ['true'] },
      },
    ]);
    // The summary is copied to the contact before the transfer, whatever the path.
    expect(byId(flow, FLOW_ACTION_IDS.setSummary).Parameters).toEqual({
      TargetContact: 'Current',
      Attributes: {
        conversationId: '$.Lex.SessionAttributes.conversationId',
        conversationSummary: '$.Lex.SessionAttributes.conversationSummary',
        escalationReason: '$.Lex.SessionAttributes.escalationReason',
      },
    });
    const setSummaryTargets = targetsOf(byId(flow, FLOW_ACTION_IDS.setSummary));
    expect(new Set(setSummaryTargets)).toEqual(new Set([FLOW_ACTION_IDS.setQueue]));
    expect(byId(flow, FLOW_ACTION_IDS.setQueue)).toMatchObject({
      Type: 'UpdateContactTargetQueue',
      Parameters: { QueueId: humanQueueArn },
    });
    expect(pathExists(flow, FLOW_ACTION_IDS.setQueue, FLOW_ACTION_IDS.transfer)).toBe(true);
    // The transfer cannot be reached without the target queue being set first.
    expect(reachable(flow, flow.StartAction, FLOW_ACTION_IDS.setQueue).has(FLOW_ACTION_IDS.transfer)).toBe(
      false,
    );
    expect(byId(flow, FLOW_ACTION_IDS.transfer).Type).toBe('TransferContactToQueue');
  });

  it('honours a custom transfer intent name', () => {
    const custom = contactFlow({ ...options, transferIntentName: 'SpeakToSomeone' });
    const conditions = byId(custom, FLOW_ACTION_IDS.botTurn).Transitions.Conditions ?? [];
    expect(conditions.find((c) => c.NextAction === FLOW_ACTION_IDS.setSummary)?.Condition).toEqual({
      Operator: 'Equals',
      Operands: ['SpeakToSomeone'],
    });
  });

  it('says goodbye and disconnects when the caller is done or silent', () => {
    const bot = byId(flow, FLOW_ACTION_IDS.botTurn);
    expect(
      bot.Transitions.Conditions?.find((c) => c.Condition.Operands.includes('Goodbye'))?.NextAction,
    ).toBe(FLOW_ACTION_IDS.goodbye);
    expect(bot.Transitions.Errors?.find((e) => e.ErrorType === 'InputTimeLimitExceeded')?.NextAction).toBe(
      FLOW_ACTION_IDS.goodbye,
    );
    expect(byId(flow, FLOW_ACTION_IDS.goodbye)).toMatchObject({
      Type: 'MessageParticipant',
      Transitions: { NextAction: FLOW_ACTION_IDS.disconnect },
    });
    const custom = contactFlow({ ...options, goodbyeMessage: 'Bye from Acme.' });
    expect(byId(custom, FLOW_ACTION_IDS.goodbye).Parameters).toEqual({ Text: 'Bye from Acme.' });
  });

  it('sends failures to a spoken apology before hanging up', () => {
    for (const id of [
      FLOW_ACTION_IDS.setNumbers,
      FLOW_ACTION_IDS.greet,
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

    it('an empty or blank greeting', () => {
      refused({ greeting: '' }, 'greeting');
      refused({ greeting: '   ' }, 'greeting');
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
    it('a missing greeting', () => {
      refused({ greeting: undefined }, 'greeting');
    });
  });

  it('trims the greeting it speaks', () => {
    const trimmed = contactFlow({ ...options, greeting: '  Hi there.  ' });
    expect(byId(trimmed, FLOW_ACTION_IDS.greet).Parameters).toEqual({ Text: 'Hi there.' });
  });
});
