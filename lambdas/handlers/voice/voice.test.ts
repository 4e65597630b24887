/**
 * The voice Lambda through the event shapes Amazon Connect and Lex V2 send it (`@types/aws-lambda`),
 * on local mode's platform (DynamoDB Local, the scripted model, the same runtime and billing as
 * every channel). Tenants, agents and numbers are set up over the HTTP API.
 */
import type { ConnectContactFlowResult, LexV2Event, LexV2Result } from 'aws-lambda';
import { contactFlowEvent, lexFallbackEvent } from '../../../local/voice-events';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../../../test/support/api';
import type { ModelProvider } from '../../domain/runtime/model';
import { DEFAULT_VOICE_TIMING } from '../../domain/voice/voice-deps';

let api: ApiClient;
let handler: typeof import('./voice').handler;
let runtimeDeps: typeof import('../../composition/runtime').runtimeDeps;
let numbers = 0;
const newNumber = () => `+1555${String(2_000_000 + ++numbers).slice(1)}`;
let contacts = 0;
const newContact = () => `c0ffee00-0000-4000-8000-${String(++contacts).padStart(12, '0')}`;

beforeAll(async () => {
  api = await startApi();
  ({ handler } = await import('./voice'));
  ({ runtimeDeps } = await import('../../composition/runtime'));
});

afterAll(async () => {
  await api.platform.stop();
});

/**
 * Tests about what a turn does get a fast-path budget a busy machine cannot miss; the slow-model
 * test puts the production budget back, since the budget is what it is about.
 */
const setFastBudget = async (fastMs: number) => {
  const { voiceDeps } = await import('../../composition/voice');
  (voiceDeps as { timing: typeof voiceDeps.timing }).timing = { ...DEFAULT_VOICE_TIMING, fastMs };
};
beforeEach(() => setFastBudget(15_000));

afterEach(() => jest.restoreAllMocks());

interface Setup {
  token: string;
  tenantId: string;
  agentId: string;
  number: string;
}

async function voiceAgent(
  options: { tokens?: number; tools?: string[]; voice?: object } = {},
): Promise<Setup> {
  const owner = await registerTenant(api);
  if (options.tokens !== 0) await topUp(api, owner.token, options.tokens ?? 1000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: {
      ...agentBody('Bright Smile'),
      tools: options.tools ?? ['book_appointment', 'escalate', 'request_approval'],
      ...(options.voice ? { voice: options.voice } : {}),
    },
  });
  expect(created.status).toBe(201);
  const agentId = created.body.id as string;
  expect((await api.request('POST', `/v1/agents/${agentId}/start`, { token: owner.token })).status).toBe(200);
  const number = newNumber();
  const put = await api.request('PUT', `/v1/agents/${agentId}/channels/voice`, {
    token: owner.token,
    body: { address: number },
  });
  expect(put.status).toBe(200);
  return { token: owner.token, tenantId: owner.tenantId, agentId, number };
}

const balance = async (token: string) =>
  (await api.request('GET', '/v1/tokens/balance', { token })).body.available as number;

async function startCall(setup: { number: string }, caller: string, contactId = newContact()) {
  const result = (await handler(
    contactFlowEvent({ contactId, dialled: setup.number, caller }, { operation: 'start-call' }),
  )) as ConnectContactFlowResult;
  return { result, contactId };
}

function say(
  call: { setup: Setup; contactId: string; caller: string; conversationId: string },
  text: string,
  session: Record<string, string> = {},
) {
  return handler(
    lexFallbackEvent(text, {
      dialledNumber: call.setup.number,
      callerNumber: call.caller,
      conversationId: call.conversationId,
      contactId: call.contactId,
      ...session,
    }),
  ) as Promise<LexV2Result>;
}

async function openCall(setup: Setup, caller = newNumber()) {
  const { result, contactId } = await startCall(setup, caller);
  expect(result.outcome).toBe('ok');
  return { setup, contactId, caller, conversationId: result.conversationId as string };
}

async function messagesOf(token: string, conversationId: string) {
  const listed = await api.request('GET', `/v1/conversations/${conversationId}/messages?limit=100`, {
    token,
  });
  expect(listed.status).toBe(200);
  return listed.body.items as { role: string; content: string }[];
}

const spoken = (result: LexV2Result) =>
  result.messages?.map((m) => ('content' in m ? m.content : '')).join(' ') ?? '';
const attributes = (result: LexV2Result) => result.sessionState.sessionAttributes ?? {};

describe('start-call', () => {
  it('routes the dialled number to the tenant’s agent, greets in its voice and charges the call once', async () => {
    const setup = await voiceAgent({
      voice: { voiceId: 'Matthew', greeting: 'Bright Smile dental, how can I help?' },
    });
    const before = await balance(setup.token);
    const contactId = newContact();
    const first = await startCall(setup, '+1 (415) 555-0133', contactId);
    expect(first.result).toEqual({
      outcome: 'ok',
      prompt: '<speak>Bright Smile dental, how can I help?</speak>',
      voiceId: 'Matthew',
      languageCode: 'en-US',
      conversationId: expect.stringMatching(/^cnv_/),
      message: '',
    });
    // Connect retries the block (or the Lambda is retried): the same contact is not charged again.
    const again = await startCall(setup, '+14155550133', contactId);
    expect(again.result.conversationId).toBe(first.result.conversationId);
    expect(await balance(setup.token)).toBe(before - 50);
    // The greeting is the conversation's first message, stored once.
    const messages = await messagesOf(setup.token, first.result.conversationId as string);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['assistant', 'Bright Smile dental, how can I help?'],
    ]);
    // Every value is a string: Connect accepts only a flat map of strings.
    for (const value of Object.values(first.result)) expect(typeof value).toBe('string');
  });

  it('recognises the caller as the customer they are on every channel (one customer by phone)', async () => {
    const setup = await voiceAgent();
    const caller = newNumber();
    const one = await openCall(setup, caller);
    const two = await openCall(setup, caller);
    expect(two.conversationId).toBe(one.conversationId);
    const conversation = await api.request('GET', `/v1/conversations/${one.conversationId}`, {
      token: setup.token,
    });
    expect(conversation.body).toMatchObject({ channel: 'voice', agentId: setup.agentId });
  });

  it('a call the agent placed (place_call): opens with its purpose, not charged again', async () => {
    const setup = await voiceAgent();
    const before = await balance(setup.token);
    const result = (await handler(
      contactFlowEvent(
        {
          contactId: newContact(),
          // Outbound: the system endpoint is the agent's number (the caller id), the customer was called.
          dialled: setup.number,
          caller: newNumber(),
          initiation: 'API',
          attributes: {
            origin: 'place_call',
            tenantId: setup.tenantId,
            agentId: setup.agentId,
            purpose: 'your cleaning tomorrow at 10:00',
          },
        },
        { operation: 'start-call' },
      ),
    )) as ConnectContactFlowResult;
    expect(result).toMatchObject({
      outcome: 'ok',
      prompt:
        '<speak>Hello, this is Bright Smile calling about your cleaning tomorrow at 10 AM. Is now a good time?</speak>',
    });
    expect(await balance(setup.token)).toBe(before);
  });

  it('an inbound call cannot pass itself off as one the agent placed', async () => {
    const setup = await voiceAgent();
    const before = await balance(setup.token);
    const result = (await handler(
      contactFlowEvent(
        {
          contactId: newContact(),
          dialled: setup.number,
          caller: newNumber(),
          attributes: {
            origin: 'place_call',
            tenantId: setup.tenantId,
            agentId: setup.agentId,
            purpose: 'free call',
          },
        },
        { operation: 'start-call' },
      ),
    )) as ConnectContactFlowResult;
    expect(result.prompt).not.toContain('free call');
    expect(await balance(setup.token)).toBe(before - 50);
  });

  it('answers an unknown number politely and charges no one', async () => {
    const setup = await voiceAgent();
    const before = await balance(setup.token);
    const { result } = await startCall({ number: '+15559999999' }, newNumber());
    expect(result.outcome).toBe('unknown-number');
    expect(result.message).toMatch(/^<speak>Sorry, this number is not in service/);
    expect(await balance(setup.token)).toBe(before);
  });

  it.each(['stop', 'pause'])(
    'tells the caller an agent (%s) is not taking calls, charging nothing',
    async (verb) => {
      const setup = await voiceAgent();
      expect(
        (await api.request('POST', `/v1/agents/${setup.agentId}/${verb}`, { token: setup.token })).status,
      ).toBe(200);
      const before = await balance(setup.token);
      const { result } = await startCall(setup, newNumber());
      expect(result.outcome).toBe('unavailable');
      expect(result.message).toBe(
        '<speak>Sorry, Bright Smile is not taking calls right now. Please try again later. Goodbye.</speak>',
      );
      expect(await balance(setup.token)).toBe(before);
    },
  );

  it('with too few tokens for the call, says so politely and charges nothing', async () => {
    const setup = await voiceAgent({ tokens: 0 });
    const before = await balance(setup.token);
    expect(before).toBeLessThan(50);
    const { result } = await startCall(setup, newNumber());
    expect(result.outcome).toBe('no-tokens');
    expect(result.message).toMatch(/^<speak>Sorry, we cannot take your call right now/);
    expect(await balance(setup.token)).toBe(before);
  });
});

describe('a turn (Lex V2 FallbackIntent fulfillment)', () => {
  it('answers in SSML, keeps the conversation in the bot, allows barge-in and stores both sides', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const result = await say(call, 'Hello there');
    expect(result.sessionState.dialogAction).toEqual({ type: 'ElicitIntent' });
    expect(result.messages?.[0]).toEqual({
      contentType: 'SSML',
      content: expect.stringMatching(/^<speak>Hello! .*<\/speak>$/),
    });
    expect(attributes(result)).toMatchObject({ turn: '1', 'x-amz-lex:allow-interrupt:*:*': 'true' });
    expect(attributes(result).pendingTurn).toBeUndefined();
    const messages = await messagesOf(setup.token, call.conversationId);
    expect(messages.map((m) => [m.role, m.content.slice(0, 11)])).toEqual([
      ['assistant', 'Hello, you '],
      ['user', 'Hello there'],
      ['assistant', 'Hello! Welc'],
    ]);
  });

  it('runs a tool call (a booking) through the decision engine and speaks the result', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const result = await say(call, 'Book an appointment for a cleaning on 2027-03-14 at 10:30');
    expect(result.sessionState.dialogAction.type).toBe('ElicitIntent');
    const executions = await api.request('GET', `/v1/agents/${setup.agentId}/executions?limit=10`, {
      token: setup.token,
    });
    const turn = executions.body.items[0];
    expect(turn).toMatchObject({ status: 'COMPLETED', channel: 'voice' });
    expect(turn.toolCalls).toEqual([
      expect.objectContaining({ name: 'book_appointment', status: 'succeeded' }),
    ]);
    expect(spoken(result)).not.toMatch(/[*#`]|https?:/);
  });

  it('tells the caller an action waits for approval', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const result = await say(call, 'Ask for approval to refund my last visit');
    expect(spoken(result)).toContain('That needs approval from the team first');
    expect(result.sessionState.dialogAction.type).toBe('ElicitIntent');
  });

  it('hands the call to a person when the agent escalates, with a summary for the flow', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const result = await say(call, 'I want to talk to a human please');
    expect(result.sessionState.dialogAction).toEqual({ type: 'Close' });
    expect(result.sessionState.intent).toEqual({ name: 'FallbackIntent', state: 'Fulfilled' });
    expect(attributes(result)).toMatchObject({
      escalate: 'true',
      escalationReason: 'the agent escalated the call',
      conversationSummary: expect.any(String),
    });
  });

  it('a retried invocation of the same turn is charged once and stored once', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const before = await balance(setup.token);
    const first = await say(call, 'Hello there');
    const retry = await say(call, 'Hello there');
    expect(spoken(retry)).toBe(spoken(first));
    expect(attributes(retry).turn).toBe('1');
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(3);
    expect(before - (await balance(setup.token))).toBe(1);
    // The next turn (the flow passes back the counter) is a new one.
    await say(call, 'Hello again', { turn: attributes(first).turn as string });
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(5);
  });

  it('a session that lost its turn counter takes the next free turn instead of failing', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    await say(call, 'Hello there');
    // Lex started a new session on the same contact: no `turn` attribute, a different utterance.
    const next = await say(call, 'Do you take walk-ins?');
    expect(spoken(next)).not.toMatch(/something went wrong/);
    expect(attributes(next).turn).toBe('2');
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(5);
  });

  it('a slow model: the filler within 2 s, then the answer through await-answer', async () => {
    await setFastBudget(DEFAULT_VOICE_TIMING.fastMs);
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const get = runtimeDeps.models.get;
    jest.spyOn(runtimeDeps.models, 'get').mockImplementation((provider: string): ModelProvider => {
      const model = get(provider);
      return {
        name: model.name,
        converse: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          return model.converse(request);
        },
      };
    });
    const started = Date.now();
    const result = await say(call, 'Hello there');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2_000);
    expect(spoken(result)).toBe('<speak>One moment while I check that.</speak>');
    expect(result.sessionState.dialogAction.type).toBe('Close');
    const pendingTurn = attributes(result).pendingTurn as string;
    expect(pendingTurn).toMatch(new RegExp(`^${call.contactId}:1@\\d+$`));
    const answer = (await handler(
      contactFlowEvent(
        {
          contactId: call.contactId,
          dialled: setup.number,
          caller: call.caller,
        },
        { operation: 'await-answer', turnId: pendingTurn },
      ),
    )) as ConnectContactFlowResult;
    expect(answer).toMatchObject({
      status: 'answered',
      escalate: 'false',
      prompt: expect.stringMatching(/^<speak>Hello! /),
    });
    // Stored once, by the continuation; the timed-out attempt is recorded as such, its tokens released.
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(3);
    const executions = await api.request('GET', `/v1/agents/${setup.agentId}/executions?limit=10`, {
      token: setup.token,
    });
    expect(
      executions.body.items
        .map((e: { status: string; error?: { code: string } }) => e.error?.code ?? e.status)
        .sort(),
    ).toEqual(['COMPLETED', 'TURN_DEADLINE_EXCEEDED']);
    const reserved = (await api.request('GET', '/v1/tokens/balance', { token: setup.token })).body.reserved;
    expect(reserved).toBe(0);
  }, 20_000);

  it('the asynchronous continuation (its own payload), retried by Lambda, answers once and stores once', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const payload = {
      kind: 'voice-turn' as const,
      tenantId: setup.tenantId,
      agentId: setup.agentId,
      conversationId: call.conversationId,
      turnId: `${call.contactId}:1`,
      text: 'Hello there',
      deadline: Date.now() + 20_000,
    };
    expect(await handler(payload)).toEqual({ turnId: payload.turnId, status: 'answered' });
    expect(await handler(payload)).toEqual({ turnId: payload.turnId, status: 'answered' });
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(3);
    const answer = (await handler(
      contactFlowEvent(
        {
          contactId: call.contactId,
          dialled: setup.number,
          caller: call.caller,
        },
        { operation: 'await-answer', turnId: `${payload.turnId}@${payload.deadline}` },
      ),
    )) as ConnectContactFlowResult;
    expect(answer).toMatchObject({ status: 'answered', prompt: expect.stringMatching(/^<speak>Hello! /) });
  });

  it('await-answer for a turn that never finished gives up politely after its deadline', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const answer = (await handler(
      contactFlowEvent(
        {
          contactId: call.contactId,
          dialled: setup.number,
          caller: call.caller,
        },
        { operation: 'await-answer', turnId: `${call.contactId}:7@${Date.now() - 60_000}` },
      ),
    )) as ConnectContactFlowResult;
    expect(answer).toMatchObject({
      status: 'failed',
      escalate: 'false',
      prompt: expect.stringMatching(/taking me longer/),
    });
  });

  it('a stopped agent mid-call: the caller is told and the flow ends or transfers', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    expect(
      (await api.request('POST', `/v1/agents/${setup.agentId}/stop`, { token: setup.token })).status,
    ).toBe(200);
    const result = await say(call, 'Hello there');
    expect(result.sessionState.dialogAction.type).toBe('Close');
    expect(spoken(result)).toMatch(/not taking calls right now/);
    expect(attributes(result)).toMatchObject({ endCall: 'true', escalationReason: 'the agent is stopped' });
    expect(attributes(result).escalate).toBeUndefined();
  });

  it('out of tokens mid-call: a polite message and a person (or goodbye)', async () => {
    const setup = await voiceAgent({ tokens: 50 });
    const call = await openCall(setup);
    expect(await balance(setup.token)).toBe(0);
    const result = await say(call, 'Hello there');
    expect(spoken(result)).toMatch(/cannot continue this call/);
    expect(attributes(result)).toMatchObject({ escalate: 'true', escalationReason: 'out of tokens' });
    expect(attributes(result).endCall).toBeUndefined();
  });

  it('an empty transcript is asked again, without a turn', async () => {
    const setup = await voiceAgent();
    const call = await openCall(setup);
    const result = await say(call, '  ');
    expect(spoken(result)).toBe('<speak>Sorry, I did not catch that. Could you say it again?</speak>');
    expect(await messagesOf(setup.token, call.conversationId)).toHaveLength(1);
  });
});

it('refuses an event it does not know', async () => {
  await expect(handler({ hello: 'world' } as unknown as LexV2Event)).rejects.toThrow();
});
