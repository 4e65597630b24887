/**
 * Searching conversations by channel over HTTP against local mode: conversations opened on the
 * web chat, by SMS through Twilio's webhook and on Telegram, filtered by channel alone and with
 * the agent; a bad channel is a 400 naming `query.channel`, and a cursor is bound to its channel.
 */
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { ACCOUNT_SID, configureChannel, postTwilio, twilioMessageForm } from '../support/twilio';

const AUTH_TOKEN = 'twilio-auth-token-search';
const AGENT_NUMBER = '+15557770100';
let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let frontDesk: string;
let billing: string;

async function activeAgent(name: string, channels: { type: string }[] = []) {
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody(name), channels },
  });
  expect(created.status).toBe(201);
  expect(
    (await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token })).status,
  ).toBe(200);
  return created.body.id as string;
}

async function chat(agentId: string, body: Record<string, unknown>) {
  const answered = await api.request('POST', `/v1/agents/${agentId}/chat`, { token: owner.token, body });
  expect(answered.status).toBe(200);
  return answered.body.conversationId as string;
}

const listed = async (query: string) => {
  const response = await api.request('GET', `/v1/conversations?${query}`, { token: owner.token });
  expect(response.status).toBe(200);
  return response.body as { items: { id: string; channel: string; agentId: string }[]; nextCursor?: string };
};

let frontDeskWeb: string;
let frontDeskSms: string;
let billingWeb: string;
let billingTelegram: string;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Search clinic');
  await topUp(api, owner.token, 5000);
  frontDesk = await activeAgent('Front desk');
  billing = await activeAgent('Billing', [{ type: 'telegram' }]);
  await configureChannel(
    api,
    { tenantId: owner.tenantId, agentId: frontDesk, channel: 'sms', address: AGENT_NUMBER },
    { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
  );
  // A customer texts the front desk: the webhook acknowledges, the queued turn opens the conversation.
  const texted = await postTwilio(
    api,
    '/v1/webhooks/twilio/sms',
    twilioMessageForm('sms', { to: AGENT_NUMBER, from: '+15557770199', body: 'Do you take walk-ins?' }),
    AUTH_TOKEN,
  );
  expect(texted.status).toBe(200);
  const { localInboundQueue } = await import('../../lambdas/composition/inbound');
  await localInboundQueue?.drain();
  frontDeskWeb = await chat(frontDesk, { message: 'Hello', customer: { externalId: 'visitor-1' } });
  billingWeb = await chat(billing, { message: 'Hello', customer: { externalId: 'visitor-2' } });
  billingTelegram = await chat(billing, {
    message: 'Hello',
    channel: 'telegram',
    customer: { externalId: 'tg-42', name: 'Ana' },
  });
  const sms = (await listed(`agentId=${frontDesk}`)).items.find((c) => c.channel === 'sms');
  expect(sms).toBeDefined();
  frontDeskSms = sms?.id as string;
}, 60_000);
afterAll(() => api.platform.stop());

it('lists the conversations on one channel', async () => {
  expect((await listed('channel=sms')).items.map((c) => c.id)).toEqual([frontDeskSms]);
  expect((await listed('channel=telegram')).items.map((c) => c.id)).toEqual([billingTelegram]);
  const web = (await listed('channel=web')).items;
  expect(web.map((c) => c.id).sort()).toEqual([frontDeskWeb, billingWeb].sort());
  expect(web.every((c) => c.channel === 'web')).toBe(true);
  expect(await listed('channel=email')).toEqual({ items: [] });
  // Without the filter, all four.
  expect((await listed('limit=100')).items).toHaveLength(4);
});

it('combines the channel with the agent and the status', async () => {
  expect((await listed(`channel=web&agentId=${billing}`)).items.map((c) => c.id)).toEqual([billingWeb]);
  expect((await listed(`channel=sms&agentId=${billing}`)).items).toEqual([]);
  expect((await listed(`channel=sms&agentId=${frontDesk}&status=active`)).items.map((c) => c.id)).toEqual([
    frontDeskSms,
  ]);
  expect((await listed(`channel=sms&status=archived`)).items).toEqual([]);
});

it('refuses a channel the platform does not have with a 400 naming query.channel', async () => {
  for (const channel of ['fax', 'SMS', '']) {
    const response = await api.request('GET', `/v1/conversations?channel=${channel}`, { token: owner.token });
    expect(response.status).toBe(400);
    expect(response.body.error.details.issues).toEqual([expect.objectContaining({ field: 'query.channel' })]);
  }
});

it('binds a cursor to its channel', async () => {
  const first = await listed('channel=web&limit=1');
  expect(first.items).toHaveLength(1);
  expect(first.nextCursor).toEqual(expect.any(String));
  const cursor = encodeURIComponent(first.nextCursor as string);
  const elsewhere = await api.request('GET', `/v1/conversations?channel=sms&limit=1&cursor=${cursor}`, {
    token: owner.token,
  });
  expect(elsewhere.status).toBe(400);
  expect(elsewhere.body.error.details.issues).toEqual([
    { field: 'query.cursor', message: 'is not a cursor returned by this listing' },
  ]);
  const unfiltered = await api.request('GET', `/v1/conversations?limit=1&cursor=${cursor}`, {
    token: owner.token,
  });
  expect(unfiltered.status).toBe(400);
  const next = await listed(`channel=web&limit=1&cursor=${cursor}`);
  expect(next.items).toHaveLength(1);
  expect(next.items[0]?.id).not.toBe(first.items[0]?.id);
});
