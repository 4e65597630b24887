/**
 * Issue 11 item 2: channel settings per agent, over HTTP against local mode. Addresses are
 * claimed in the global directory (one agent per address, across tenants), credentials go to the
 * channel secret store and never come back out: not in a response, a log line or the table.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { localStandIns } from '../../lambdas/composition/stand-ins';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import { ProviderError } from '../../lambdas/domain/actions/ports';
import { type ApiClient, agentBody, registerTenant, startApi } from '../support/api';
import { dynamoEndpoint } from '../support/dynamodb';

const AUTH_TOKEN = 'twilio-auth-TOKEN-7f3a9c1e5b';
const SIGNING_SECRET = 'slack-signing-SECRET-0d8e2f';
const BOT_TOKEN = 'telegram-bot-TOKEN-123456:ABCdef';
const SECRETS = [AUTH_TOKEN, SIGNING_SECRET, BOT_TOKEN];

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;
/** Everything every response said, for the "never in a response" check at the end. */
const responses: string[] = [];
/** Everything written to stdout/stderr or the console while the suite ran, at DEBUG. */
const logged: string[] = [];
const restores: (() => void)[] = [];
let previousLevel: string | undefined;

beforeAll(async () => {
  // Local mode builds its handlers (and their logger) at start, from the environment.
  previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: never[]) => {
      logged.push(String(chunk));
      return write(chunk as string, ...rest);
    }) as typeof stream.write;
    restores.push(() => {
      stream.write = write;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
    restores.push(() => spy.mockRestore());
  }
  api = await startApi();
  owner = await registerTenant(api);
  other = await registerTenant(api);
});
afterAll(async () => {
  for (const restore of restores) restore();
  if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  await api.platform.stop();
});

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await api.request(method, path, { token, ...(body === undefined ? {} : { body }) });
  responses.push(response.text);
  return response;
}

async function newAgent(token = owner.token, name = 'Front desk') {
  const created = await call('POST', '/v1/agents', token, agentBody(name));
  expect(created.status).toBe(201);
  return created.body.id as string;
}

const sms = (address: string, authToken = AUTH_TOKEN) => ({
  address,
  credentials: { accountSid: 'AC0123456789abcdef', authToken },
});

async function storedSecret(tenantId: string, agentId: string, channel: 'sms' | 'telegram' | 'slack') {
  const store = localStandIns()?.channelSecrets();
  if (!store) throw new Error('no local channel secret store');
  return inTenantScope(tenantId, () => store.get(tenantId, agentId, channel));
}

describe('PUT /v1/agents/{id}/channels/{type}', () => {
  it('sets up SMS: normalised address claimed, credentials stored, agent entry in sync, values never shown', async () => {
    const agentId = await newAgent();
    const put = await call(
      'PUT',
      `/v1/agents/${agentId}/channels/sms`,
      owner.token,
      sms('+1 (415) 555-0100'),
    );
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      type: 'sms',
      address: '+14155550100',
      enabled: true,
      credentialsSet: ['accountSid', 'authToken'],
      webhookPath: '/v1/webhooks/twilio/sms',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      updatedBy: owner.ownerId,
    });
    expect(await storedSecret(owner.tenantId, agentId, 'sms')).toEqual(sms('').credentials);

    const listed = await call('GET', `/v1/agents/${agentId}/channels`, owner.token);
    expect(listed.body.items).toEqual([put.body]);
    const agent = await call('GET', `/v1/agents/${agentId}`, owner.token);
    expect(agent.body.channels).toEqual([{ type: 'sms', enabled: true, address: '+14155550100' }]);
    expect(agent.body.version).toBe(2);
    const versions = await call('GET', `/v1/agents/${agentId}/versions`, owner.token);
    expect(versions.body.items[0].reason).toBe('channel sms set up');

    // Switched off without sending the credentials again: they stay as they were.
    const off = await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, { enabled: false });
    expect(off.body).toMatchObject({
      enabled: false,
      address: '+14155550100',
      createdAt: put.body.createdAt,
    });
    expect((await call('GET', `/v1/agents/${agentId}`, owner.token)).body.channels).toEqual([
      { type: 'sms', enabled: false, address: '+14155550100' },
    ]);
    expect(await storedSecret(owner.tenantId, agentId, 'sms')).toEqual(sms('').credentials);
  });

  it('refuses an address another agent holds, of this tenant or another, without saying whose (409)', async () => {
    const holder = await newAgent(owner.token, 'Holder');
    expect(
      (await call('PUT', `/v1/agents/${holder}/channels/sms`, owner.token, sms('+14155550101'))).status,
    ).toBe(200);
    const sibling = await newAgent(owner.token, 'Sibling');
    const stranger = await newAgent(other.token, 'Stranger');
    for (const [agentId, token] of [
      [sibling, owner.token],
      [stranger, other.token],
    ] as const) {
      const taken = await call(
        'PUT',
        `/v1/agents/${agentId}/channels/sms`,
        token,
        sms('+1 415 555 0101', 'x'.repeat(12)),
      );
      expect(taken.status).toBe(409);
      expect(taken.text).not.toContain(holder);
      expect(taken.text).not.toContain(owner.tenantId);
      expect((await call('GET', `/v1/agents/${agentId}/channels`, token)).body.items).toEqual([]);
      expect((await call('GET', `/v1/agents/${agentId}`, token)).body.channels).toEqual([]);
    }
    // The loser's credentials were not stored, the holder's were not touched.
    expect(await storedSecret(other.tenantId, stranger, 'sms')).toBeUndefined();
    expect((await storedSecret(owner.tenantId, holder, 'sms'))?.authToken).toBe(AUTH_TOKEN);
    // The same number on another channel is another address.
    const whatsapp = await call('PUT', `/v1/agents/${stranger}/channels/whatsapp`, other.token, {
      address: 'whatsapp:+14155550101',
      credentials: { accountSid: 'AC1', authToken: AUTH_TOKEN },
    });
    expect(whatsapp.body).toMatchObject({
      address: '+14155550101',
      webhookPath: '/v1/webhooks/twilio/whatsapp',
    });
  });

  it('of five agents asking for one number at once, exactly one gets it', async () => {
    const agents = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => newAgent(n % 2 ? owner.token : other.token, `Racer ${n}`)),
    );
    const answers = await Promise.all(
      agents.map((agentId, n) =>
        call(
          'PUT',
          `/v1/agents/${agentId}/channels/sms`,
          n % 2 ? other.token : owner.token,
          sms('+14155550120'),
        ),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const withChannel = await Promise.all(
      agents.map(
        async (agentId, n) =>
          (await call('GET', `/v1/agents/${agentId}/channels`, n % 2 ? other.token : owner.token)).body.items
            .length,
      ),
    );
    expect(withChannel.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('moves to a new address and gives the old one back', async () => {
    const agentId = await newAgent();
    await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, sms('+14155550102'));
    const moved = await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, {
      address: '+14155550103',
    });
    expect(moved.body.address).toBe('+14155550103');
    const next = await newAgent(other.token);
    expect(
      (await call('PUT', `/v1/agents/${next}/channels/sms`, other.token, sms('+14155550102'))).status,
    ).toBe(200);
    expect(
      (await call('PUT', `/v1/agents/${next}/channels/sms`, other.token, { address: '+14155550103' })).status,
    ).toBe(409);
  });

  it('generates Telegram’s channel key and secret token, and keeps them when the bot token changes', async () => {
    const agentId = await newAgent();
    const first = await call('PUT', `/v1/agents/${agentId}/channels/telegram`, owner.token, {
      credentials: { botToken: BOT_TOKEN },
    });
    expect(first.status).toBe(200);
    expect(first.body.address).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(first.body.webhookPath).toBe(`/v1/webhooks/telegram/${first.body.address}`);
    expect(first.body.credentialsSet).toEqual(['botToken', 'secretToken']);
    const secret = await storedSecret(owner.tenantId, agentId, 'telegram');
    expect(secret?.secretToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(first.text).not.toContain(secret?.secretToken);

    const again = await call('PUT', `/v1/agents/${agentId}/channels/telegram`, owner.token, {
      credentials: { botToken: `${BOT_TOKEN}-2` },
    });
    expect(again.body.address).toBe(first.body.address);
    expect(await storedSecret(owner.tenantId, agentId, 'telegram')).toEqual({
      botToken: `${BOT_TOKEN}-2`,
      secretToken: secret?.secretToken,
    });
  });

  it('sets up Slack, Meta and email with their own addresses and credentials', async () => {
    const agentId = await newAgent();
    const slack = await call('PUT', `/v1/agents/${agentId}/channels/slack`, owner.token, {
      address: 'T0123ABCD',
      credentials: { botToken: 'xoxb-1', signingSecret: SIGNING_SECRET },
    });
    expect(slack.body).toMatchObject({ address: 'T0123ABCD', webhookPath: '/v1/webhooks/slack' });
    const messenger = await call('PUT', `/v1/agents/${agentId}/channels/messenger`, owner.token, {
      address: '1234567890',
      credentials: { pageAccessToken: 'EAAG1', appSecret: 'app-secret-1', verifyToken: 'verify-1' },
    });
    expect(messenger.body).toMatchObject({
      webhookPath: '/v1/webhooks/meta',
      credentialsSet: ['appSecret', 'pageAccessToken', 'verifyToken'],
    });
    const email = await call('PUT', `/v1/agents/${agentId}/channels/email`, owner.token, {
      address: 'Help@Shop.Example',
    });
    expect(email.body).toMatchObject({ address: 'help@shop.example', credentialsSet: [] });
    expect(email.body.webhookPath).toBeUndefined();
    const listed = await call('GET', `/v1/agents/${agentId}/channels`, owner.token);
    expect(listed.body.items.map((c: { type: string }) => c.type).sort()).toEqual([
      'email',
      'messenger',
      'slack',
    ]);
  });

  it.each([
    ['no credentials on first set-up', 'sms', { address: '+14155550104' }, 'body.credentials'],
    [
      'a missing credential',
      'sms',
      { address: '+14155550104', credentials: { accountSid: 'AC1' } },
      'body.credentials.authToken',
    ],
    [
      'a credential of another provider',
      'sms',
      { address: '+14155550104', credentials: { accountSid: 'AC1', authToken: 'a', botToken: 'b' } },
      'body.credentials.botToken',
    ],
    ['a malformed number', 'sms', sms('555-0100'), 'body.address'],
    ['no address', 'slack', { credentials: { botToken: 'x', signingSecret: 'y' } }, 'body.address'],
    [
      'an address Telegram does not take',
      'telegram',
      { address: 'mybot', credentials: { botToken: 'x' } },
      'body.address',
    ],
    [
      'credentials email does not take',
      'email',
      { address: 'a@shop.example', credentials: { password: 'x' } },
      'body.credentials.password',
    ],
    ['an unknown field', 'sms', { ...sms('+14155550104'), secret: 'x' }, 'body.secret'],
  ])('answers 400 naming the field for %s, and claims nothing', async (_what, type, body, field) => {
    const agentId = await newAgent();
    const refused = await call('PUT', `/v1/agents/${agentId}/channels/${type}`, owner.token, body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.issues.map((d: { field: string }) => d.field)).toContain(field);
    expect((await call('GET', `/v1/agents/${agentId}/channels`, owner.token)).body.items).toEqual([]);
  });

  it('answers 404 for an unknown channel type and an unknown agent', async () => {
    const agentId = await newAgent();
    expect(
      (await call('PUT', `/v1/agents/${agentId}/channels/pigeon`, owner.token, sms('+14155550105'))).status,
    ).toBe(400);
    const missing = 'agt_01J00000000000000000000000';
    expect(
      (await call('PUT', `/v1/agents/${missing}/channels/sms`, owner.token, sms('+14155550105'))).status,
    ).toBe(404);
    expect((await call('DELETE', `/v1/agents/${agentId}/channels/sms`, owner.token)).status).toBe(404);
  });
});

describe('DELETE /v1/agents/{id}/channels/{type}', () => {
  it('releases the address, deletes the credentials and the agent entry', async () => {
    const agentId = await newAgent();
    await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, sms('+14155550106'));
    const removed = await call('DELETE', `/v1/agents/${agentId}/channels/sms`, owner.token);
    expect(removed.status).toBe(204);
    expect((await call('GET', `/v1/agents/${agentId}/channels`, owner.token)).body.items).toEqual([]);
    expect((await call('GET', `/v1/agents/${agentId}`, owner.token)).body.channels).toEqual([]);
    expect(await storedSecret(owner.tenantId, agentId, 'sms')).toBeUndefined();
    const next = await newAgent(other.token);
    expect(
      (await call('PUT', `/v1/agents/${next}/channels/sms`, other.token, sms('+14155550106'))).status,
    ).toBe(200);
  });

  it('deleting the agent gives its addresses back and deletes its credentials', async () => {
    const agentId = await newAgent();
    await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, sms('+14155550107'));
    expect((await call('DELETE', `/v1/agents/${agentId}`, owner.token)).status).toBe(204);
    expect(await storedSecret(owner.tenantId, agentId, 'sms')).toBeUndefined();
    const next = await newAgent(other.token);
    expect(
      (await call('PUT', `/v1/agents/${next}/channels/sms`, other.token, sms('+14155550107'))).status,
    ).toBe(200);
  });
});

describe('the agent routes do not bypass the directory', () => {
  it('POST /v1/agents refuses a messaging channel address, pointing to the channel route', async () => {
    const refused = await call('POST', '/v1/agents', owner.token, {
      ...agentBody('Sneaky'),
      channels: [{ type: 'web' }, { type: 'sms', address: '+14155550108' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.issues).toEqual([
      {
        field: 'body.channels.1.address',
        message: expect.stringContaining('PUT /v1/agents/{id}/channels/sms'),
      },
    ]);
    // Saying a channel is on, without an address, is still fine.
    expect(
      (await call('POST', '/v1/agents', owner.token, { ...agentBody('Plain'), channels: [{ type: 'sms' }] }))
        .status,
    ).toBe(201);
  });

  it('PATCH keeps a configured channel as the channel routes left it, and rollback too', async () => {
    const agentId = await newAgent();
    await call('PUT', `/v1/agents/${agentId}/channels/sms`, owner.token, sms('+14155550109'));
    const entry = { type: 'sms', enabled: true, address: '+14155550109' };
    for (const channels of [
      [{ ...entry, address: '+14155550110' }],
      [{ ...entry, enabled: false }],
      [{ type: 'web' }],
    ]) {
      const refused = await call('PATCH', `/v1/agents/${agentId}`, owner.token, { channels });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.issues[0].field).toMatch(/^body\.channels/);
      expect(refused.body.error.message).toContain('/v1/agents/{id}/channels/sms');
    }
    const newAddress = await call('PATCH', `/v1/agents/${agentId}`, owner.token, {
      channels: [entry, { type: 'whatsapp', address: '+14155550110' }],
    });
    expect(newAddress.body.error.details.issues[0].field).toBe('body.channels.1.address');
    // Reading the agent and sending it back changed is fine.
    const kept = await call('PATCH', `/v1/agents/${agentId}`, owner.token, {
      instructions: 'Be brief.',
      channels: [entry, { type: 'web' }],
    });
    expect(kept.status).toBe(200);
    // Version 1 had no channels: rolling back to it keeps the SMS set-up (the claim is still held).
    const rolled = await call('POST', `/v1/agents/${agentId}/versions/1/rollback`, owner.token);
    expect(rolled.status).toBe(200);
    expect(rolled.body.channels).toEqual([entry]);
    expect(rolled.body.instructions).not.toBe('Be brief.');
  });
});

describe('a failure after the claim', () => {
  it('releases the address and leaves no credentials (the error is logged, the credentials are not)', async () => {
    const store = localStandIns()?.channelSecrets();
    if (!store) throw new Error('no local channel secret store');
    const agentId = await newAgent();
    const unavailable = () => new ProviderError('secrets-manager', true, 'secret store unavailable');
    const put = jest.spyOn(store, 'put').mockRejectedValueOnce(unavailable());
    // Its undo (deleting what may have been written) fails too: that is logged, and the claim still goes.
    const remove = jest.spyOn(store, 'delete').mockRejectedValueOnce(unavailable());
    try {
      const failed = await call(
        'PUT',
        `/v1/agents/${agentId}/channels/sms`,
        owner.token,
        sms('+14155550111'),
      );
      expect(failed.status).toBe(502);
    } finally {
      put.mockRestore();
      remove.mockRestore();
    }
    expect((await call('GET', `/v1/agents/${agentId}/channels`, owner.token)).body.items).toEqual([]);
    expect((await call('GET', `/v1/agents/${agentId}`, owner.token)).body.channels).toEqual([]);
    const next = await newAgent(other.token);
    expect(
      (await call('PUT', `/v1/agents/${next}/channels/sms`, other.token, sms('+14155550111'))).status,
    ).toBe(200);
  });
});

describe('credentials', () => {
  it('are in no response, no log line and no table item; channel changes are audited without them', async () => {
    const audit = await call('GET', '/v1/audit?type=admin.change&limit=100', owner.token);
    const routes = audit.body.items.map((entry: { details: { route: string } }) => entry.details.route);
    expect(routes).toEqual(
      expect.arrayContaining([
        'PUT /v1/agents/{id}/channels/{type}',
        'DELETE /v1/agents/{id}/channels/{type}',
      ]),
    );
    expect(
      audit.body.items.find((e: { details: { route: string } }) => e.details.route.includes('channels')),
    ).toMatchObject({ details: { type: expect.any(String), id: expect.stringMatching(/^agt_/) } });

    const client = createDocumentClient({ region: 'us-east-1', endpoint: dynamoEndpoint() });
    const items: unknown[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: api.platform.tableName,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    expect(items.length).toBeGreaterThan(20);
    const table = JSON.stringify(items);
    expect(table).toContain('CHADDR#sms#+14155550100');
    expect(logged.join('\n')).toContain('secret store unavailable');
    for (const secret of SECRETS) {
      expect(table).not.toContain(secret);
      expect(responses.join('\n')).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
    }
  });
});
