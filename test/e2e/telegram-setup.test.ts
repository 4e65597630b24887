/**
 * Setting up a Telegram channel tells Telegram where to post (setWebhook with the channel's URL and
 * secret token), and removing it tells Telegram to stop (deleteWebhook). In local mode both calls
 * land in the local outbox, which is how the platform's secret token reaches `npm run message`.
 */
import { localOutbox } from '../../lambdas/adapters/local/local-outbox';
import { ProviderError } from '../../lambdas/domain/actions/ports';
import { ChannelCredentialsRejectedError } from '../../lambdas/domain/shared/errors';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;
let owner: { tenantId: string; token: string };

interface OutboxItem {
  kind: string;
  to?: string;
  body?: string;
  method?: string;
  url?: string;
  secretToken?: string;
  agentId?: string;
}

async function newAgent(name: string): Promise<string> {
  const created = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody(name) });
  expect(created.status).toBe(201);
  const started = await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  expect(started.status).toBe(200);
  return created.body.id as string;
}

const putTelegram = (agentId: string, botToken: string) =>
  api.request('PUT', `/v1/agents/${agentId}/channels/telegram`, {
    token: owner.token,
    body: { credentials: { botToken } },
  });

async function telegramOutbox(): Promise<OutboxItem[]> {
  const { localInboundQueue } = await import('../../lambdas/composition/inbound');
  await localInboundQueue?.drain();
  const response = await api.request('GET', '/v1/dev/outbox?kind=telegram&limit=100', { token: owner.token });
  expect(response.status).toBe(200);
  return response.body.items as OutboxItem[];
}

const webhookCalls = async (agentId: string) =>
  (await telegramOutbox()).filter((item) => item.agentId === agentId && item.method !== undefined);

async function listed(agentId: string) {
  const response = await api.request('GET', `/v1/agents/${agentId}/channels`, { token: owner.token });
  expect(response.status).toBe(200);
  return response.body.items as { type: string; address: string }[];
}

function deliver(channelKey: string, secret: string, updateId: number, chatId: number, text: string) {
  return api.request('POST', `/v1/webhooks/telegram/${channelKey}`, {
    rawBody: JSON.stringify({
      update_id: updateId,
      message: {
        message_id: updateId % 1000,
        from: { id: chatId, is_bot: false, first_name: 'Ana' },
        chat: { id: chatId, first_name: 'Ana', type: 'private' },
        date: Math.floor(Date.now() / 1000),
        text,
      },
    }),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
  });
}

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 5000);
}, 60_000);

afterEach(() => localOutbox.clear());
afterAll(() => api.platform.stop());

describe('PUT /v1/agents/{id}/channels/telegram', () => {
  it("calls setWebhook with the channel's URL and secret token; a delivery with that secret is answered", async () => {
    const agentId = await newAgent('Telegram setup');
    const put = await putTelegram(agentId, '7100000001:AAsetup-token');
    expect(put.status).toBe(200);
    const channelKey = put.body.address as string;

    const calls = await webhookCalls(agentId);
    expect(calls).toHaveLength(1);
    const [setWebhook] = calls;
    expect(setWebhook).toMatchObject({
      kind: 'telegram',
      method: 'setWebhook',
      url: `http://localhost:3000/v1/webhooks/telegram/${channelKey}`,
    });
    const secret = setWebhook?.secretToken ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{20,256}$/);
    // The bot token is never recorded, not even in the local outbox.
    expect(JSON.stringify(calls)).not.toContain('AAsetup-token');

    expect((await deliver(channelKey, `${secret}x`, 810001, 66601, 'hello')).status).toBe(403);
    const accepted = await deliver(channelKey, secret, 810002, 66602, 'Are you open on Sunday?');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ received: true, queued: 1 });
    const replies = (await telegramOutbox()).filter((item) => item.to === '66602');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toBeTruthy();
  });

  it('points the new bot at the same URL and secret on a new bot token, and detaches the old bot', async () => {
    const agentId = await newAgent('Telegram rebot');
    const first = await putTelegram(agentId, '7100000002:AAold-bot');
    expect(first.status).toBe(200);
    const [firstCall] = await webhookCalls(agentId);
    localOutbox.clear();

    const second = await putTelegram(agentId, '7100000003:AAnew-bot');
    expect(second.status).toBe(200);
    expect(second.body.address).toBe(first.body.address);
    const calls = await webhookCalls(agentId);
    // Newest first: the old bot's deleteWebhook follows the new bot's setWebhook.
    expect(calls.map((call) => call.method)).toEqual(['deleteWebhook', 'setWebhook']);
    expect(calls[1]).toMatchObject({ url: firstCall?.url, secretToken: firstCall?.secretToken });
  });

  it('fails with 502 when setWebhook fails, leaving no channel, claim or secret behind', async () => {
    const agentId = await newAgent('Telegram down');
    localOutbox.failNext('telegram', new ProviderError('telegram', true, 'HTTP 502: Bad Gateway', '502'));
    const failed = await putTelegram(agentId, '7100000004:AAdown-bot');
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(await listed(agentId)).toEqual([]);
    const { requireLocalStandIn } = await import('../../lambdas/composition/stand-ins');
    const { inTenantScope } = await import('../../lambdas/composition/tenant-scope');
    const secret = await inTenantScope(owner.tenantId, () =>
      requireLocalStandIn('channelSecrets', 'test')().get(owner.tenantId, agentId, 'telegram'),
    );
    expect(secret).toBeUndefined();
    // Nothing was set, so there is nothing to undo at Telegram.
    expect(await webhookCalls(agentId)).toEqual([]);

    // Sent again, it works: the failed attempt held nothing.
    const retried = await putTelegram(agentId, '7100000004:AAdown-bot');
    expect(retried.status).toBe(200);
    expect((await webhookCalls(agentId)).map((call) => call.method)).toEqual(['setWebhook']);
  });

  it('keeps the working set-up when a new bot token is refused (422), its webhook untouched', async () => {
    const agentId = await newAgent('Telegram bad token');
    const first = await putTelegram(agentId, '7100000005:AAgood-bot');
    expect(first.status).toBe(200);
    const [good] = await webhookCalls(agentId);
    const secret = good?.secretToken ?? '';
    localOutbox.clear();

    localOutbox.failNext(
      'telegram',
      new ChannelCredentialsRejectedError(
        'body.credentials.botToken',
        'Telegram does not accept this bot token',
      ),
    );
    const refused = await putTelegram(agentId, '7100000006:AArevoked');
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/body\.credentials\.botToken/);
    expect(await listed(agentId)).toEqual([
      expect.objectContaining({ type: 'telegram', address: first.body.address }),
    ]);
    // The previous bot still delivers with its secret.
    expect((await deliver(first.body.address, secret, 810101, 66611, 'still there?')).status).toBe(200);
  });
});

describe('DELETE /v1/agents/{id}/channels/telegram', () => {
  it('calls deleteWebhook, then refuses deliveries to the released key', async () => {
    const agentId = await newAgent('Telegram leaving');
    const put = await putTelegram(agentId, '7100000007:AAleaving');
    expect(put.status).toBe(200);
    const [set] = await webhookCalls(agentId);
    localOutbox.clear();

    const removed = await api.request('DELETE', `/v1/agents/${agentId}/channels/telegram`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    expect(await webhookCalls(agentId)).toEqual([
      expect.objectContaining({ kind: 'telegram', method: 'deleteWebhook', agentId }),
    ]);
    expect((await deliver(put.body.address, set?.secretToken ?? '', 810201, 66621, 'hi')).status).toBe(404);
  });

  it('removes the channel even when Telegram cannot be told (deleteWebhook is best effort)', async () => {
    const agentId = await newAgent('Telegram revoked');
    expect((await putTelegram(agentId, '7100000008:AArevoked')).status).toBe(200);
    localOutbox.failNext('telegram', new ProviderError('telegram', false, 'HTTP 401: Unauthorized', '401'));
    const removed = await api.request('DELETE', `/v1/agents/${agentId}/channels/telegram`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    expect(await listed(agentId)).toEqual([]);
  });
});
