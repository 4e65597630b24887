/**
 * The inbound pipeline end to end over HTTP against local mode: Twilio's webhooks signed with the
 * `twilio` package's own function, the in-process FIFO queue, the worker's turn with the scripted
 * model, and the reply in the local outbox.
 */
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { ACCOUNT_SID, configureChannel, messageSid, postTwilio, twilioMessageForm } from '../support/twilio';

const AUTH_TOKEN = 'twilio-auth-token-e2e';
let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let agentId: string;
let numbers = 0;
const newNumber = () => `+1555${String(1_000_000 + ++numbers).slice(1)}`;
let agentNumber: string;

const drain = async () => {
  // Loaded with the webhooks handler on the first webhook; the queue runs right after each ack.
  const { localInboundQueue: queue } = await import('../../lambdas/composition/inbound');
  await queue?.drain();
};

async function activeAgent(token: string, name = 'Desk') {
  const created = await api.request('POST', '/v1/agents', {
    token,
    body: { ...agentBody(name), tools: ['calculator', 'current_time'] },
  });
  expect(created.status).toBe(201);
  expect((await api.request('POST', `/v1/agents/${created.body.id}/start`, { token })).status).toBe(200);
  return created.body.id as string;
}

const text = (
  channel: 'sms' | 'whatsapp',
  from: string,
  body: string,
  options: { to?: string; sid?: string } = {},
) =>
  postTwilio(
    api,
    `/v1/webhooks/twilio/${channel}`,
    twilioMessageForm(channel, {
      to: options.to ?? agentNumber,
      from,
      body,
      ...(options.sid ? { sid: options.sid } : {}),
    }),
    AUTH_TOKEN,
  );

async function outbox(token: string, kind: string) {
  const listed = await api.request('GET', `/v1/dev/outbox?kind=${kind}&limit=100`, { token });
  expect(listed.status).toBe(200);
  return (listed.body.items as { to: string; from: string; body: string }[]).slice().reverse();
}

async function conversationsOf(token: string) {
  const listed = await api.request('GET', `/v1/conversations?agentId=${agentId}&limit=100`, { token });
  expect(listed.status).toBe(200);
  return listed.body.items as { id: string; channel: string; customerId: string }[];
}

async function messagesOf(token: string, conversationId: string) {
  const listed = await api.request('GET', `/v1/conversations/${conversationId}/messages?limit=100`, {
    token,
  });
  expect(listed.status).toBe(200);
  return listed.body.items as {
    id: string;
    role: string;
    content: string;
    unanswered?: { code: string; reason: string };
    delivery?: { provider: string; providerMessageId: string; status: string; error?: string };
  }[];
}

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Inbound clinic');
  await topUp(api, owner.token, 5000);
  agentId = await activeAgent(owner.token);
  agentNumber = newNumber();
  await configureChannel(
    api,
    { tenantId: owner.tenantId, agentId, channel: 'sms', address: agentNumber },
    { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
  );
  await configureChannel(
    api,
    { tenantId: owner.tenantId, agentId, channel: 'whatsapp', address: agentNumber },
    { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
  );
}, 60_000);
afterAll(async () => {
  await drain();
  await api.platform.stop();
});

describe('a customer texts the agent', () => {
  it('acknowledges at once with empty TwiML, runs the turn and replies by SMS from the agent number', async () => {
    const customer = newNumber();
    const answer = await text('sms', customer, 'What is 6*7?');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/xml');
    expect(answer.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    await drain();
    const sent = (await outbox(owner.token, 'sms')).filter((record) => record.to === customer);
    expect(sent).toEqual([
      expect.objectContaining({ from: agentNumber, body: expect.stringContaining('42') }),
    ]);
    const [conversation] = (await conversationsOf(owner.token)).filter((c) => c.channel === 'sms');
    expect(conversation).toBeDefined();
  });

  it('processes the same delivery twice once: one turn, one reply', async () => {
    const customer = newNumber();
    const sid = messageSid();
    expect((await text('sms', customer, 'What is 2+3?', { sid })).status).toBe(200);
    expect((await text('sms', customer, 'What is 2+3?', { sid })).status).toBe(200);
    await drain();
    expect((await text('sms', customer, 'What is 2+3?', { sid })).status).toBe(200);
    await drain();
    const sent = (await outbox(owner.token, 'sms')).filter((record) => record.to === customer);
    expect(sent).toHaveLength(1);
    const executions = await api.request('GET', `/v1/agents/${agentId}/executions?limit=100`, {
      token: owner.token,
    });
    const turns = (executions.body.items as { input: { message?: string } }[]).filter(
      (execution) => execution.input.message === 'What is 2+3?',
    );
    expect(turns).toHaveLength(1);
  });

  it('answers ten messages posted in quick succession in order', async () => {
    const customer = newNumber();
    for (let n = 1; n <= 10; n++) {
      expect((await text('sms', customer, `What is 100+${n}?`)).status).toBe(200);
    }
    await drain();
    const replies = (await outbox(owner.token, 'sms')).filter((record) => record.to === customer);
    expect(replies.map((reply) => /\b1(\d\d)\b/.exec(reply.body)?.[0])).toEqual(
      Array.from({ length: 10 }, (_, index) => String(101 + index)),
    );
  });

  it('recognises the same phone on SMS then WhatsApp as one customer with two conversations', async () => {
    const customer = newNumber();
    expect((await text('sms', customer, 'What is 1+1?')).status).toBe(200);
    await drain();
    expect((await text('whatsapp', customer, 'What is 2+2?')).status).toBe(200);
    await drain();
    const whatsapp = (await outbox(owner.token, 'whatsapp')).filter((record) => record.to === customer);
    expect(whatsapp).toEqual([
      expect.objectContaining({ from: agentNumber, body: expect.stringContaining('4') }),
    ]);
    const all = await conversationsOf(owner.token);
    const bySms = all.filter((c) => c.channel === 'sms');
    const byWhatsapp = all.filter((c) => c.channel === 'whatsapp');
    const customerIds = new Set(byWhatsapp.map((c) => c.customerId));
    const shared = bySms.filter((c) => customerIds.has(c.customerId));
    expect(shared).toHaveLength(1);
    const [smsConversation] = shared;
    const whatsappConversation = byWhatsapp.find((c) => c.customerId === smsConversation?.customerId);
    expect(whatsappConversation?.id).not.toBe(smsConversation?.id);
  });
});

describe('refused deliveries store nothing', () => {
  it('answers 403 to a bad signature and keeps no trace: the genuine delivery afterwards is processed', async () => {
    const customer = newNumber();
    const sid = messageSid();
    const form = twilioMessageForm('sms', { to: agentNumber, from: customer, body: 'What is 9+9?', sid });
    const forged = await postTwilio(api, '/v1/webhooks/twilio/sms', form, 'not-the-token');
    expect(forged.status).toBe(403);
    const unsigned = await postTwilio(api, '/v1/webhooks/twilio/sms', form, AUTH_TOKEN, { signature: '' });
    expect(unsigned.status).toBe(403);
    // Signed for another body: the signature covers every field.
    const tampered = await api.request('POST', '/v1/webhooks/twilio/sms', {
      rawBody: new URLSearchParams({ ...form, Body: 'What is 1+1?' }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': (await import('twilio/lib/webhooks/webhooks')).getExpectedTwilioSignature(
          AUTH_TOKEN,
          `${api.platform.url}/v1/webhooks/twilio/sms`,
          form,
        ),
      },
    });
    expect(tampered.status).toBe(403);
    await drain();
    expect((await outbox(owner.token, 'sms')).filter((record) => record.to === customer)).toEqual([]);
    const genuine = await postTwilio(api, '/v1/webhooks/twilio/sms', form, AUTH_TOKEN);
    expect(genuine.status).toBe(200);
    await drain();
    expect((await outbox(owner.token, 'sms')).filter((record) => record.to === customer)).toHaveLength(1);
  });

  it('answers 404 to an address no agent answers on, storing nothing', async () => {
    const customer = newNumber();
    const before = (await conversationsOf(owner.token)).length;
    const answer = await text('sms', customer, 'Hello?', { to: newNumber() });
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain(owner.tenantId);
    await drain();
    expect((await conversationsOf(owner.token)).length).toBe(before);
  });
});

describe('the rules customers expect', () => {
  it('STOP opts the customer out on that channel, confirmed once; START brings them back', async () => {
    const customer = newNumber();
    expect((await text('sms', customer, 'STOP')).status).toBe(200);
    expect((await text('sms', customer, 'stop')).status).toBe(200);
    expect((await text('sms', customer, 'What is 5+5?')).status).toBe(200);
    await drain();
    let sent = (await outbox(owner.token, 'sms')).filter((record) => record.to === customer);
    expect(sent).toEqual([expect.objectContaining({ body: expect.stringContaining('unsubscribed') })]);
    const conversation = (await conversationsOf(owner.token)).find(
      (c) => c.channel === 'sms' && c.customerId && true,
    );
    expect(conversation).toBeDefined();
    // The agent cannot reach them by SMS through an action either, and says why.
    const sender = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: { ...agentBody('Outreach'), tools: ['send_sms'] },
    });
    await api.request('POST', `/v1/agents/${sender.body.id}/start`, { token: owner.token });
    const refused = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId: sender.body.id, message: `Send an SMS to ${customer} saying hi` },
    });
    expect(refused.status).toBe(200);
    expect(refused.body.actions[0]).toMatchObject({
      action: 'send_sms',
      status: 'failed',
      error: { message: expect.stringContaining('opted out') },
    });
    // Still answered on WhatsApp: the opt-out is per channel.
    expect((await text('whatsapp', customer, 'What is 5+6?')).status).toBe(200);
    expect((await text('sms', customer, 'START')).status).toBe(200);
    expect((await text('sms', customer, 'What is 5+7?')).status).toBe(200);
    await drain();
    sent = (await outbox(owner.token, 'sms')).filter((record) => record.to === customer);
    expect(sent.map((record) => record.body)).toEqual([
      expect.stringContaining('unsubscribed'),
      expect.stringContaining('resubscribed'),
      expect.stringContaining('12'),
    ]);
    expect((await outbox(owner.token, 'whatsapp')).filter((record) => record.to === customer)).toHaveLength(
      1,
    );
  });

  it('stores the unanswered message with why when the agent is paused', async () => {
    const customer = newNumber();
    expect((await api.request('POST', `/v1/agents/${agentId}/pause`, { token: owner.token })).status).toBe(
      200,
    );
    try {
      expect((await text('sms', customer, 'Anyone there?')).status).toBe(200);
      await drain();
    } finally {
      await api.request('POST', `/v1/agents/${agentId}/resume`, { token: owner.token });
    }
    expect((await outbox(owner.token, 'sms')).filter((record) => record.to === customer)).toEqual([]);
    const conversations = await conversationsOf(owner.token);
    const messages = (
      await Promise.all(conversations.map((conversation) => messagesOf(owner.token, conversation.id)))
    ).flat();
    expect(messages.find((message) => message.content === 'Anyone there?')).toMatchObject({
      role: 'user',
      unanswered: { code: 'AGENT_UNAVAILABLE', reason: expect.stringContaining('paused') },
    });
  });

  it('records the reply delivery and then the status Twilio posts for it', async () => {
    const customer = newNumber();
    expect((await text('sms', customer, 'What is 3*3?')).status).toBe(200);
    await drain();
    const conversations = await conversationsOf(owner.token);
    const all = await Promise.all(
      conversations.map((c) => messagesOf(owner.token, c.id).then((m) => ({ c, m }))),
    );
    const found = all.find(({ m }) => m.some((message) => message.content === 'What is 3*3?'));
    const reply = found?.m.find((message) => message.role === 'assistant');
    expect(reply?.delivery).toMatchObject({ provider: 'outbox', status: 'recorded' });
    const status = await postTwilio(
      api,
      '/v1/webhooks/twilio/status',
      {
        MessageSid: reply?.delivery?.providerMessageId ?? '',
        MessageStatus: 'delivered',
        AccountSid: ACCOUNT_SID,
        From: agentNumber,
        To: customer,
        ApiVersion: '2010-04-01',
      },
      AUTH_TOKEN,
    );
    expect(status.status).toBe(200);
    const after = await messagesOf(owner.token, found?.c.id ?? '');
    expect(after.find((message) => message.id === reply?.id)?.delivery).toMatchObject({
      status: 'delivered',
    });
  });
});

describe('a tenant without tokens', () => {
  it('acknowledges the webhook, sends nothing and records why', async () => {
    const broke = await registerTenant(api, 'Broke clinic');
    const brokeAgent = await activeAgent(broke.token, 'Broke desk');
    const number = newNumber();
    await configureChannel(
      api,
      { tenantId: broke.tenantId, agentId: brokeAgent, channel: 'sms', address: number },
      { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
    );
    const customer = newNumber();
    expect((await text('sms', customer, 'What is 1+2?', { to: number })).status).toBe(200);
    await drain();
    expect((await outbox(broke.token, 'sms')).filter((record) => record.to === customer)).toEqual([]);
    const listed = await api.request('GET', `/v1/conversations?agentId=${brokeAgent}`, {
      token: broke.token,
    });
    const [conversation] = listed.body.items as { id: string }[];
    const messages = await messagesOf(broke.token, conversation?.id ?? '');
    expect(messages).toEqual([
      expect.objectContaining({
        content: 'What is 1+2?',
        unanswered: expect.objectContaining({ code: expect.stringMatching(/BALANCE|TOKENS/) }),
      }),
    ]);
  });
});
