/**
 * Issue 11 item 4, human handoff, over HTTP against local mode: `POST …/handoff` (and the agent's
 * own `escalate`) hands a conversation to a person, the agent stops answering it, coordinators
 * hear of it (email and the bus), staff answer with `POST …/messages` (stored, and sent on the
 * conversation's channel), and `POST …/resume-agent` hands it back.
 */
import { localEventBus } from '../../lambdas/composition/billing';
import { type ApiClient, agentBody, registerTenant, startApi, topUp, userWithRole } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 1000);
});
afterAll(() => api.platform.stop());

async function activeAgent(extra: object = {}) {
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody('Desk'), ...extra },
  });
  expect(created.status).toBe(201);
  await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  return created.body.id as string;
}

const chat = (agentId: string, body: object, token = owner.token) =>
  api.request('POST', `/v1/agents/${agentId}/chat`, { token, body });

const post = (path: string, body?: object, token = owner.token) =>
  api.request('POST', path, { token, ...(body ? { body } : {}) });

async function outbox(kind: string) {
  const response = await api.request('GET', `/v1/dev/outbox?kind=${kind}&limit=100`, { token: owner.token });
  expect(response.status).toBe(200);
  return response.body.items as { kind: string; to?: string; from?: string; body?: string; text?: string }[];
}

/** The bus's recent events of `type` about one conversation. */
const eventsAbout = (type: string, conversationId: string) =>
  localEventBus.recent.filter(
    (event) =>
      event.type === type && (event.detail as { conversationId?: string }).conversationId === conversationId,
  );
const handoffEvents = (conversationId: string) => eventsAbout('conversation.handoff', conversationId);

describe('handing a web conversation to a person', () => {
  it('stops the agent, tells the coordinators once, stores staff answers, and hands it back', async () => {
    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const agentId = await activeAgent();
    const first = await chat(agentId, { message: 'hello' });
    expect(first.status).toBe(200);
    const conversationId = first.body.conversationId as string;
    const emailsBefore = (await outbox('email')).length;

    const handed = await post(`/v1/conversations/${conversationId}/handoff`, {
      reason: 'asks for the manager',
    });
    expect(handed.status).toBe(200);
    expect(handed.body).toMatchObject({ id: conversationId, status: 'handoff' });
    const emails = (await outbox('email')).slice(0, (await outbox('email')).length - emailsBefore);
    expect(emails.map((email) => email.to)).toContain(coordinator.email);
    expect(handoffEvents(conversationId)).toEqual([
      expect.objectContaining({
        detail: expect.objectContaining({ reason: 'asks for the manager', by: `user:${owner.ownerId}` }),
      }),
    ]);
    expect(eventsAbout('coordinator.notified', conversationId).length > 0).toBe(true);
    // Again: nothing changes, nobody is told twice.
    expect((await post(`/v1/conversations/${conversationId}/handoff`)).body.status).toBe('handoff');
    expect(handoffEvents(conversationId)).toHaveLength(1);

    // The agent does not answer it, and says why.
    const refused = await chat(agentId, { message: 'anyone there?' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('handed off to a person');
    expect(refused.body.error.details).toEqual({ status: 'handoff' });

    const staff = await post(
      `/v1/conversations/${conversationId}/messages`,
      { text: 'Hi, this is Sam.' },
      coordinator.token,
    );
    expect(staff.status).toBe(201);
    expect(staff.body).toMatchObject({
      conversationId,
      role: 'assistant',
      content: 'Hi, this is Sam.',
      sentBy: coordinator.userId,
    });
    expect(staff.body.delivery).toBeUndefined();
    const messages = await api.request('GET', `/v1/conversations/${conversationId}/messages?order=asc`, {
      token: owner.token,
    });
    expect(messages.body.items.map((m: { content: string }) => m.content).at(-1)).toBe('Hi, this is Sam.');
    expect(
      (await api.request('GET', `/v1/conversations/${conversationId}`, { token: owner.token })).body,
    ).toMatchObject({ status: 'handoff', messageCount: 3 });

    const back = await post(`/v1/conversations/${conversationId}/resume-agent`);
    expect(back.status).toBe(200);
    expect(back.body.status).toBe('active');
    expect(eventsAbout('conversation.resumed', conversationId).length > 0).toBe(true);
    expect((await chat(agentId, { message: 'thanks' })).status).toBe(200);
  });

  it('refuses staff messages while the agent answers the conversation (409), and a member (403)', async () => {
    const agentId = await activeAgent();
    const conversationId = (await chat(agentId, { message: 'hello' })).body.conversationId as string;
    const refused = await post(`/v1/conversations/${conversationId}/messages`, { text: 'Butting in' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`/v1/conversations/${conversationId}/handoff`);
    const member = await userWithRole(api, owner.token, 'member');
    expect((await post(`/v1/conversations/${conversationId}/handoff`, {}, member.token)).status).toBe(403);
    const empty = await post(`/v1/conversations/${conversationId}/handoff`, {});
    expect(empty.status).toBe(200);
    const blank = await post(`/v1/conversations/${conversationId}/messages`, { text: '' });
    expect(blank.status).toBe(400);
    expect(blank.body.error.details.issues[0].field).toBe('body.text');
  });

  it('is what the agent’s own escalate does', async () => {
    const agentId = await activeAgent({ tools: ['escalate'] });
    const escalated = await chat(agentId, { message: 'I want to talk to a human' });
    expect(escalated.status).toBe(200);
    expect(escalated.body.actions).toEqual([
      expect.objectContaining({ action: 'escalate', status: 'executed' }),
    ]);
    const conversationId = escalated.body.conversationId as string;
    expect(
      (await api.request('GET', `/v1/conversations/${conversationId}`, { token: owner.token })).body.status,
    ).toBe('handoff');
    expect(handoffEvents(conversationId)).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ by: `agent:${agentId}` }) }),
    ]);
    expect((await chat(agentId, { message: 'hello?' })).status).toBe(409);
  });
});

describe('handing an SMS conversation to a person', () => {
  it('sends the staff answer to the customer’s phone from the agent’s number, and charges it', async () => {
    const agentId = await activeAgent();
    const channel = await api.request('PUT', `/v1/agents/${agentId}/channels/sms`, {
      token: owner.token,
      body: { address: '+14155550150', credentials: { accountSid: 'AC1', authToken: 'handoff-auth-token' } },
    });
    expect(channel.status).toBe(200);
    const customer = { phone: '+14155550199' };
    const turn = await chat(agentId, { message: 'my order is late', channel: 'sms', customer });
    expect(turn.status).toBe(200);
    const conversationId = turn.body.conversationId as string;
    await post(`/v1/conversations/${conversationId}/handoff`, { reason: 'late order' });
    const balanceBefore = (await api.request('GET', '/v1/tokens/balance', { token: owner.token })).body
      .available;

    const staff = await post(`/v1/conversations/${conversationId}/messages`, {
      text: 'Sorry! It ships today.',
    });
    expect(staff.status).toBe(201);
    expect(staff.body.delivery).toMatchObject({
      channel: 'sms',
      status: expect.not.stringMatching(/refused/),
    });
    const sent = (await outbox('sms')).find(
      (record) => (record.text ?? record.body) === 'Sorry! It ships today.',
    );
    expect(sent).toMatchObject({ to: '+14155550199' });
    const balanceAfter = (await api.request('GET', '/v1/tokens/balance', { token: owner.token })).body
      .available;
    expect(balanceBefore - balanceAfter).toBe(1);
    const stored = await api.request('GET', `/v1/conversations/${conversationId}/messages?order=asc`, {
      token: owner.token,
    });
    expect(stored.body.items.at(-1)).toMatchObject({
      content: 'Sorry! It ships today.',
      delivery: expect.objectContaining({ channel: 'sms' }),
    });
  });

  it('records why nothing went out when the agent has no number on the channel', async () => {
    const agentId = await activeAgent({ channels: [{ type: 'sms' }] });
    const turn = await chat(agentId, { message: 'hi', channel: 'sms', customer: { phone: '+14155550198' } });
    const conversationId = turn.body.conversationId as string;
    await post(`/v1/conversations/${conversationId}/handoff`);
    const staff = await post(`/v1/conversations/${conversationId}/messages`, { text: 'Hello from a person' });
    expect(staff.status).toBe(201);
    expect(staff.body.delivery).toMatchObject({
      status: 'refused',
      error: expect.stringContaining('CHANNEL_NOT_CONFIGURED'),
    });
  });
});
