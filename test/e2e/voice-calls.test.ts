/**
 * Voice in local mode over HTTP: the voice channel's route, and `POST /v1/dev/calls`, which walks
 * the deployed contact flow document through the local Connect + Lex emulator and the voice
 * Lambda's own handler. Every answer is checked against the OpenAPI document.
 */
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let agentId: string;
const agentNumber = '+15557770100';

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Voice clinic');
  await topUp(api, owner.token, 2000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: {
      ...agentBody('Bright Smile'),
      tools: ['book_appointment', 'escalate'],
      voice: {
        voiceId: 'Joanna',
        localeId: 'en_US',
        greeting: 'Thanks for calling Bright Smile. How can I help?',
      },
    },
  });
  expect(created.status).toBe(201);
  agentId = created.body.id;
  expect((await api.request('POST', `/v1/agents/${agentId}/start`, { token: owner.token })).status).toBe(200);
});

/** A fast-path budget a busy machine cannot miss, but for the slow-turn test (the production one). */
async function setFastBudget(fastMs: number) {
  const { voiceDeps } = await import('../../lambdas/composition/voice');
  const { DEFAULT_VOICE_TIMING } = await import('../../lambdas/domain/voice/voice-deps');
  (voiceDeps as { timing: typeof voiceDeps.timing }).timing = { ...DEFAULT_VOICE_TIMING, fastMs };
}
beforeEach(() => setFastBudget(15_000));

afterAll(async () => {
  await api.platform.stop();
});

describe('PUT /v1/agents/{id}/channels/voice', () => {
  it('claims an E.164 number for the agent (normalised), with no credentials and no webhook', async () => {
    const put = await api.request('PUT', `/v1/agents/${agentId}/channels/voice`, {
      token: owner.token,
      body: { address: '+1 (555) 777-0100' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      type: 'voice',
      address: agentNumber,
      enabled: true,
      credentialsSet: [],
    });
    expect(put.body.webhookPath).toBeUndefined();
    const agent = await api.request('GET', `/v1/agents/${agentId}`, { token: owner.token });
    expect(agent.body.channels).toContainEqual({ type: 'voice', enabled: true, address: agentNumber });
  });

  it('refuses what is not a phone number, and credentials, naming the field', async () => {
    const bad = await api.request('PUT', `/v1/agents/${agentId}/channels/voice`, {
      token: owner.token,
      body: { address: 'front-desk' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('body.address');
    const withSecret = await api.request('PUT', `/v1/agents/${agentId}/channels/voice`, {
      token: owner.token,
      body: { address: agentNumber, credentials: { authToken: 'x' } },
    });
    expect(withSecret.status).toBe(400);
    expect(withSecret.text).toContain('body.credentials.authToken');
  });

  it("refuses a number another tenant's agent holds (409, naming no one)", async () => {
    const other = await registerTenant(api, 'Other clinic');
    const created = await api.request('POST', '/v1/agents', { token: other.token, body: agentBody('Other') });
    const taken = await api.request('PUT', `/v1/agents/${created.body.id}/channels/voice`, {
      token: other.token,
      body: { address: agentNumber },
    });
    expect(taken.status).toBe(409);
    expect(taken.text).not.toContain(owner.tenantId);
  });
});

describe('POST /v1/dev/calls', () => {
  const caller = '+15557770199';

  it('a call: greeted in the agent’s words, asks, books, then a person takes over', async () => {
    const dialled = await api.request('POST', '/v1/dev/calls', { body: { to: agentNumber, from: caller } });
    expect(dialled.status).toBe(200);
    expect(dialled.body).toMatchObject({
      callId: expect.stringMatching(/^call_/),
      state: 'in-progress',
      heard: [{ kind: 'prompt', text: 'Thanks for calling Bright Smile. How can I help?' }],
    });
    const { callId } = dialled.body;
    const asked = await api.request('POST', '/v1/dev/calls', {
      body: { to: agentNumber, from: caller, callId, text: 'Hello, are you open?' },
    });
    expect(asked.status).toBe(200);
    expect(asked.body.heard).toEqual([
      expect.objectContaining({ kind: 'prompt', ssml: expect.stringMatching(/^<speak>/) }),
    ]);
    const booked = await api.request('POST', '/v1/dev/calls', {
      body: {
        to: agentNumber,
        from: caller,
        callId,
        text: 'Book an appointment for a cleaning on 2027-03-14 at 10:30',
      },
    });
    expect(booked.body.state).toBe('in-progress');
    expect(booked.body.heard[0].text).toMatch(/book|appointment|cleaning/i);
    const transfer = await api.request('POST', '/v1/dev/calls', {
      body: { to: agentNumber, from: caller, callId, text: 'Can I speak to a person?' },
    });
    expect(transfer.body.state).toBe('transferred');
    expect(transfer.body.heard.map((h: { kind: string }) => h.kind)).toEqual(['message', 'transfer']);
    // The call is over: its id no longer continues anything.
    const after = await api.request('POST', '/v1/dev/calls', {
      body: { to: agentNumber, from: caller, callId, text: 'Hello?' },
    });
    expect(after.status).toBe(404);
    // The conversation holds the call: each utterance and reply.
    const conversations = await api.request('GET', `/v1/conversations?agentId=${agentId}&limit=10`, {
      token: owner.token,
    });
    const voice = conversations.body.items.find((c: { channel: string }) => c.channel === 'voice');
    const messages = await api.request('GET', `/v1/conversations/${voice.id}/messages?limit=20`, {
      token: owner.token,
    });
    expect(
      messages.body.items
        .filter((m: { role: string }) => m.role === 'user')
        .map((m: { content: string }) => m.content),
    ).toEqual(
      expect.arrayContaining([
        'Hello, are you open?',
        'Book an appointment for a cleaning on 2027-03-14 at 10:30',
      ]),
    );
  });

  it('one request: dial and say, then goodbye hangs up', async () => {
    const once = await api.request('POST', '/v1/dev/calls', {
      body: { to: agentNumber, from: caller, text: 'Hi there' },
    });
    expect(once.body.heard.map((h: { kind: string }) => h.kind)).toEqual(['prompt', 'prompt']);
    const bye = await api.request('POST', '/v1/dev/calls', {
      body: { to: agentNumber, from: caller, callId: once.body.callId, text: 'goodbye' },
    });
    expect(bye.body).toMatchObject({ state: 'ended', heard: [{ kind: 'message' }, { kind: 'hangup' }] });
  });

  it('a slow turn: the filler within 2 s, then the answer the flow waited for', async () => {
    const { DEFAULT_VOICE_TIMING } = await import('../../lambdas/domain/voice/voice-deps');
    await setFastBudget(DEFAULT_VOICE_TIMING.fastMs);
    const { runtimeDeps } = await import('../../lambdas/composition/runtime');
    const get = runtimeDeps.models.get;
    const spy = jest.spyOn(runtimeDeps.models, 'get').mockImplementation((provider: string) => {
      const model = get(provider);
      return {
        name: model.name,
        converse: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          return model.converse(request);
        },
      };
    });
    try {
      const slow = await api.request('POST', '/v1/dev/calls', {
        body: { to: agentNumber, from: '+15557770198', text: 'Hello there' },
      });
      expect(slow.status).toBe(200);
      const heard = slow.body.heard as { kind: string; text: string; atMs: number }[];
      expect(heard.map((h) => h.kind)).toEqual(['prompt', 'filler', 'prompt']);
      const [greeting, filler, answer] = heard as [(typeof heard)[0], (typeof heard)[0], (typeof heard)[0]];
      expect(filler.text).toBe('One moment while I check that.');
      expect(filler.atMs - greeting.atMs).toBeLessThan(2_000);
      expect(answer.text).toMatch(/^Hello!/);
      expect(answer.atMs).toBeGreaterThan(filler.atMs);
      expect(slow.body.state).toBe('in-progress');
    } finally {
      spy.mockRestore();
    }
  }, 20_000);

  it('an unknown number hears a polite message and the call ends', async () => {
    const unknown = await api.request('POST', '/v1/dev/calls', {
      body: { to: '+15557770999', from: caller },
    });
    expect(unknown.status).toBe(200);
    expect(unknown.body.state).toBe('ended');
    expect(unknown.body.heard[0].text).toMatch(/^Sorry, this number is not in service/);
  });

  it('refuses bad numbers naming the field', async () => {
    const bad = await api.request('POST', '/v1/dev/calls', { body: { to: 'desk', from: caller } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('body.to');
  });
});
