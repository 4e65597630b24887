/**
 * Slack, Telegram and Meta webhooks end to end in local mode: real payload shapes signed with the
 * providers' documented algorithms, through the inbound pipeline (route → proof → dedup → queue)
 * to the agent's turn, whose reply lands in the local outbox.
 */
import { metaSignature } from '../../lambdas/adapters/meta/meta-webhook';
import { slackSignature } from '../../lambdas/adapters/slack/slack-webhook';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;
let owner: { tenantId: string; token: string };

const SLACK_TEAM = 'T0E2ESLACK1';
const SIGNING_SECRET = 'e2e-slack-signing-secret-0123456789';
const PAGE_A = '1048293187001';
const PAGE_B = '1048293187002';
const APP_SECRET = 'e2e-meta-app-secret-abcdef';
const VERIFY_TOKEN = 'e2e-meta-verify-token-42';

let telegramKey: string;
let telegramSecret: string;
let slackAgent: string;

async function newAgent(name: string): Promise<string> {
  const created = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody(name) });
  expect(created.status).toBe(201);
  const started = await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  expect(started.status).toBe(200);
  return created.body.id as string;
}

async function configure(agentId: string, type: string, body: Record<string, unknown>) {
  const response = await api.request('PUT', `/v1/agents/${agentId}/channels/${type}`, {
    token: owner.token,
    body,
  });
  expect(response.status).toBe(200);
  return response.body as { address: string; webhookPath?: string };
}

/** Lets the in-process queue finish every queued turn. */
async function settle() {
  const { localInboundQueue } = await import('../../lambdas/composition/inbound');
  await localInboundQueue?.drain();
}

async function outbox(kind: string) {
  await settle();
  const response = await api.request('GET', `/v1/dev/outbox?kind=${kind}&limit=100`, { token: owner.token });
  expect(response.status).toBe(200);
  return response.body.items as { kind: string; to?: string; from?: string; body?: string }[];
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function slackPost(rawBody: string, options: { timestamp?: number; secret?: string; retry?: number } = {}) {
  const timestamp = options.timestamp ?? nowSeconds();
  return api.request('POST', '/v1/webhooks/slack', {
    rawBody,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(rawBody, options.secret ?? SIGNING_SECRET, timestamp),
      ...(options.retry
        ? { 'x-slack-retry-num': String(options.retry), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    },
  });
}

const slackEvent = (eventId: string, user: string, text: string, team = SLACK_TEAM) =>
  JSON.stringify({
    token: 'legacy-verification-token',
    team_id: team,
    api_app_id: 'A0E2EAPP',
    event: {
      type: 'message',
      channel: `D${user.slice(1)}`,
      user,
      text,
      ts: `${nowSeconds()}.000100`,
      channel_type: 'im',
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: nowSeconds(),
    authorizations: [{ team_id: team, user_id: 'U0E2EBOT', is_bot: true, is_enterprise_install: false }],
  });

function telegramPost(channelKey: string, update: unknown, secret = telegramSecret) {
  return api.request('POST', `/v1/webhooks/telegram/${channelKey}`, {
    rawBody: JSON.stringify(update),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
  });
}

const telegramUpdate = (updateId: number, chatId: number, text: string) => ({
  update_id: updateId,
  message: {
    message_id: updateId % 1000,
    from: { id: chatId, is_bot: false, first_name: 'Ana' },
    chat: { id: chatId, first_name: 'Ana', type: 'private' },
    date: nowSeconds(),
    text,
  },
});

function metaPost(body: unknown, secret = APP_SECRET) {
  const rawBody = JSON.stringify(body);
  return api.request('POST', '/v1/webhooks/meta', {
    rawBody,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(rawBody, secret) },
  });
}

const metaEntry = (page: string, psid: string, mid: string, text: string) => ({
  id: page,
  time: Date.now(),
  messaging: [
    { sender: { id: psid }, recipient: { id: page }, timestamp: Date.now(), message: { mid, text } },
  ],
});

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 5000);

  slackAgent = await newAgent('Slack desk');
  await configure(slackAgent, 'slack', {
    address: SLACK_TEAM,
    credentials: { botToken: 'xoxb-e2e-1-2', signingSecret: SIGNING_SECRET },
  });

  const telegramAgent = await newAgent('Telegram desk');
  const telegram = await configure(telegramAgent, 'telegram', {
    credentials: { botToken: '7000000001:AAE2E-token' },
  });
  telegramKey = telegram.address;
  expect(telegram.webhookPath).toBe(`/v1/webhooks/telegram/${telegramKey}`);
  // The platform hands the secret token to Telegram's setWebhook; here the test plays Telegram.
  const { requireLocalStandIn } = await import('../../lambdas/composition/stand-ins');
  const { inTenantScope } = await import('../../lambdas/composition/tenant-scope');
  const stored = await inTenantScope(owner.tenantId, () =>
    requireLocalStandIn('channelSecrets', 'test')().get(owner.tenantId, telegramAgent, 'telegram'),
  );
  telegramSecret = stored?.secretToken ?? '';
  expect(telegramSecret).toMatch(/^[A-Za-z0-9_-]{20,}$/);

  for (const [name, page] of [
    ['Page A desk', PAGE_A],
    ['Page B desk', PAGE_B],
  ] as const) {
    await configure(await newAgent(name), 'messenger', {
      address: page,
      credentials: { pageAccessToken: `EAAG-${page}`, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN },
    });
  }
}, 60_000);

afterAll(async () => {
  await api?.platform.stop();
});

describe('POST /v1/webhooks/slack', () => {
  it('answers url_verification with its challenge', async () => {
    const response = await slackPost(
      JSON.stringify({
        token: 'legacy',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7',
        type: 'url_verification',
      }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      received: true,
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7',
    });
  });

  it('refuses a bad signature and a stale timestamp with 403, storing nothing', async () => {
    const raw = slackEvent('EvE2EREFUSED', 'U0CUSTREF', 'hello?');
    const forged = await slackPost(raw, { secret: 'not-the-signing-secret' });
    expect(forged.status).toBe(403);
    expect(forged.text).not.toContain(SIGNING_SECRET);
    const stale = await slackPost(raw, { timestamp: nowSeconds() - 6 * 60 });
    expect(stale.status).toBe(403);
    expect((await outbox('slack')).filter((r) => r.to === 'U0CUSTREF')).toEqual([]);
    // Nothing was stored: not even the dedup claim, so the genuine delivery still goes through.
    const genuine = await slackPost(raw);
    expect(genuine.body).toEqual({ received: true, queued: 1, duplicates: 0 });
  });

  it('refuses a team no agent answers with 404', async () => {
    const response = await slackPost(slackEvent('EvE2EUNKNOWN', 'U0CUSTX', 'hi', 'T0NOBODY99'));
    expect(response.status).toBe(404);
  });

  it("answers a direct message once, in the customer's DM, however often Slack retries it", async () => {
    const raw = slackEvent('EvE2EONCE01', 'U0CUSTONE', 'Do you open on Sundays?');
    const first = await slackPost(raw);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, queued: 1, duplicates: 0 });
    const retry = await slackPost(raw, { retry: 1 });
    expect(retry.body).toEqual({ received: true, queued: 0, duplicates: 1 });

    const replies = (await outbox('slack')).filter((r) => r.to === 'U0CUSTONE');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ kind: 'slack', from: SLACK_TEAM, body: expect.any(String) });
  });

  it("ignores the bot's own message: nothing queued, nothing answered", async () => {
    const own = JSON.parse(slackEvent('EvE2EOWN001', 'U0E2EBOT', 'our own reply'));
    const response = await slackPost(JSON.stringify(own));
    expect(response.body).toEqual({ received: true, queued: 0, duplicates: 0 });
    expect((await outbox('slack')).filter((r) => r.to === 'U0E2EBOT')).toEqual([]);
  });
});

describe('POST /v1/webhooks/telegram/{channelKey}', () => {
  it('refuses a wrong secret token with 403 and an unknown channel key with 404, storing nothing', async () => {
    const update = telegramUpdate(700001, 55501, 'hello');
    expect((await telegramPost(telegramKey, update, `${telegramSecret}x`)).status).toBe(403);
    expect((await telegramPost('tgk-no-such-bot-key', update)).status).toBe(404);
    expect((await outbox('telegram')).filter((r) => r.to === '55501')).toEqual([]);
    expect((await telegramPost(telegramKey, update)).body).toEqual({
      received: true,
      queued: 1,
      duplicates: 0,
    });
  });

  it('answers an update once however often Telegram redelivers it', async () => {
    const update = telegramUpdate(700002, 55502, 'Can I change my booking?');
    expect((await telegramPost(telegramKey, update)).body).toEqual({
      received: true,
      queued: 1,
      duplicates: 0,
    });
    expect((await telegramPost(telegramKey, update)).body).toEqual({
      received: true,
      queued: 0,
      duplicates: 1,
    });
    const replies = (await outbox('telegram')).filter((r) => r.to === '55502');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.from).toBe(telegramKey);
  });
});

describe('/v1/webhooks/meta', () => {
  it('answers the subscription handshake with a configured verify token, and refuses others', async () => {
    const ok = await api.request(
      'GET',
      `/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(ok.text).toBe('1158201444');
    const wrong = await api.request(
      'GET',
      '/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444',
    );
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain('1158201444');
  });

  it('answers every entry of a batched delivery, once', async () => {
    const batch = {
      object: 'page',
      entry: [
        metaEntry(PAGE_A, '7000000000000001', 'm_e2e_A1', 'Are you open today?'),
        metaEntry(PAGE_B, '7000000000000002', 'm_e2e_B1', 'How much is a cleaning?'),
      ],
    };
    const first = await metaPost(batch);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, queued: 2, duplicates: 0 });
    expect((await metaPost(batch)).body).toEqual({ received: true, queued: 0, duplicates: 2 });

    const replies = await outbox('messenger');
    expect(replies.filter((r) => r.to === '7000000000000001').map((r) => r.from)).toEqual([PAGE_A]);
    expect(replies.filter((r) => r.to === '7000000000000002').map((r) => r.from)).toEqual([PAGE_B]);
  });

  it('refuses a bad signature with 403 and pages no agent answers with 404, storing nothing', async () => {
    const batch = { object: 'page', entry: [metaEntry(PAGE_A, '7000000000000003', 'm_e2e_A2', 'hello')] };
    expect((await metaPost(batch, 'another-app-secret')).status).toBe(403);
    const stranger = {
      object: 'page',
      entry: [metaEntry('99999999999', '7000000000000004', 'm_e2e_X', 'hi')],
    };
    expect((await metaPost(stranger)).status).toBe(404);
    expect(
      (await outbox('messenger')).filter((r) =>
        ['7000000000000003', '7000000000000004'].includes(r.to ?? ''),
      ),
    ).toEqual([]);
    expect((await metaPost(batch)).body).toEqual({ received: true, queued: 1, duplicates: 0 });
  });
});
