/**
 * Every route in the route table, over HTTP against local mode:
 *  - without a valid token → 401 (missing, malformed, wrong signature, expired, wrong audience);
 *  - with a role that lacks the route's permission → 403;
 *  - with tenant B's token on tenant A's ids → 404, and nothing of A's in the answer;
 *  - operator routes refuse every tenant role, and tenant routes refuse platform operators (403).
 * The route list is read from the route table, so a new route is covered the day it is added.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ROLES, roleAllows } from '../../lambdas/domain/tenants/rbac';
import { ROUTES, type RouteSpec, splitRouteKey } from '../../lambdas/http/route-table';
import {
  type ApiClient,
  agentBody,
  operatorToken,
  PASSWORD,
  registerTenant,
  startApi,
  topUp,
  userWithRole,
} from '../support/api';

const PROTECTED = (Object.entries(ROUTES) as [string, RouteSpec][]).filter(
  ([, spec]) => spec.permission !== 'public',
);
/** Tenant routes: a tenant user's token with the permission; operators are refused. */
const TENANT_ROUTES = PROTECTED.filter(([, spec]) => spec.permission !== 'operator');
const OPERATOR_ROUTES = PROTECTED.filter(([, spec]) => spec.permission === 'operator');

/** A valid request body for each route that takes one, so only auth decides the outcome. */
function bodyFor(key: string): unknown {
  switch (key) {
    case 'POST /v1/agents':
      return agentBody('Matrix agent');
    case 'PATCH /v1/agents/{id}':
      return { instructions: 'Be brief.' };
    case 'POST /v1/agents/{id}/clone':
      return { name: 'Matrix clone' };
    case 'PATCH /v1/tenant':
      return { name: 'Renamed' };
    case 'POST /v1/users':
      return {
        email: `m-${Math.random().toString(36).slice(2)}@example.test`,
        name: 'M',
        password: 'Correct-Horse-9',
        role: 'member',
      };
    case 'PATCH /v1/users/{id}':
      return { name: 'Renamed user' };
    case 'DELETE /v1/auth/mfa/totp':
      return { password: 'Not-A-Password-1', code: '123456' };
    case 'POST /v1/agents/{id}/memories':
      return { type: 'semantic', content: 'Matrix memory' };
    case 'POST /v1/agents/{id}/memories/search':
      return { query: 'matrix' };
    case 'PUT /v1/memories/{id}':
      return { content: 'Changed memory' };
    case 'PUT /v1/agents/{id}/web-chat':
      return { allowedOrigins: ['https://shop.example'] };
    case 'POST /v1/agents/{id}/chat':
      return { message: 'Matrix hello' };
    case 'POST /v1/agents/{id}/execute':
      return { task: 'Matrix task' };
    case 'PUT /v1/agents/{id}/tools':
      return { tools: ['calculator'] };
    case 'POST /v1/conversations/{id}/handoff':
      return { reason: 'Matrix handoff' };
    case 'POST /v1/conversations/{id}/messages':
      return { text: 'Matrix staff message' };
    case 'PUT /v1/agents/{id}/channels/{type}':
      return { address: '+14155550199', credentials: { accountSid: 'ACmatrix', authToken: 'matrix-token' } };
    case 'POST /v1/agents/provision':
      return {
        agent: agentBody('Matrix provisioned'),
        channels: [{ type: 'telegram', credentials: { botToken: '1:matrix' } }],
      };
    case 'POST /v1/agents/{id}/channels/{type}/provision':
      return { address: '+14155550198', credentials: { accountSid: 'ACmatrix', authToken: 'matrix-token' } };
    case 'POST /v1/locations':
      return { name: 'Branch' };
    case 'PATCH /v1/locations/{id}':
      return { name: 'Renamed branch' };
    case 'PUT /v1/tokens/settings':
      return { lowBalanceThreshold: 10 };
    case 'POST /v1/tokens/purchase':
      return { amount: 10 };
    case 'POST /v1/operator/tenants/{tenantId}/tokens':
      return { type: 'grant', amount: 10, reason: 'Matrix grant' };
    case 'PUT /v1/operator/tenants/{tenantId}/rate-limits':
      return { turnsPerMinute: 100, agentTurnsPerMinute: 50 };
    case 'POST /v1/agent/process':
      return { agentId: idsA.agents, message: 'Matrix hello' };
    case 'PUT /v1/policies':
      return { rules: [] };
    case 'POST /v1/approvals/{id}/approve':
    case 'POST /v1/approvals/{id}/reject':
      return { comment: 'Matrix decision' };
    case 'POST /v1/agents/{id}/emergency-stop':
    case 'POST /v1/tenant/emergency-stop':
      return { reason: 'Matrix stop' };
    default:
      return undefined;
  }
}

let api: ApiClient;
let tenantA: Awaited<ReturnType<typeof registerTenant>>;
let tenantB: Awaited<ReturnType<typeof registerTenant>>;
const tokensB: Record<string, string> = {};
const idsA: Record<string, string | undefined> = {};

function pathFor(key: string, ids: Record<string, string | undefined>): { method: string; path: string } {
  const { method, path } = splitRouteKey(key);
  const resource = path.split('/')[2] ?? '';
  return {
    method,
    path: path
      .replace('{id}', ids[resource] ?? 'missing')
      .replace('{version}', '1')
      .replace('{type}', 'sms')
      .replace('{tenantId}', ids.tenant ?? 'missing'),
  };
}

beforeAll(async () => {
  api = await startApi();
  tenantA = await registerTenant(api, 'Tenant A');
  tenantB = await registerTenant(api, 'Tenant B');
  tokensB.owner = tenantB.token;
  for (const role of ROLES.filter((r) => r !== 'owner'))
    tokensB[role] = (await userWithRole(api, tenantB.token, role)).token;
  const agent = await api.request('POST', '/v1/agents', {
    token: tenantA.token,
    body: { ...agentBody('A secret agent'), tools: ['calculator', 'place_call', 'take_payment'] },
  });
  const member = await userWithRole(api, tenantA.token, 'member');
  const location = await api.request('POST', '/v1/locations', {
    token: tenantA.token,
    body: { name: 'A HQ' },
  });
  idsA.tenant = tenantA.tenantId;
  idsA.agents = agent.body.id;
  idsA.users = member.userId;
  idsA.locations = location.body.id;
  const channel = await api.request('PUT', `/v1/agents/${idsA.agents}/channels/sms`, {
    token: tenantA.token,
    body: { address: '+14155550123', credentials: { accountSid: 'ACa', authToken: 'A secret token' } },
  });
  expect(channel.status).toBe(200);
  const memory = await api.request('POST', `/v1/agents/${idsA.agents}/memories`, {
    token: tenantA.token,
    body: { type: 'semantic', content: 'A secret memory' },
  });
  idsA.memories = memory.body.id;
  const provisioning = await api.request('POST', '/v1/agents/provision', {
    token: tenantA.token,
    body: {
      agent: agentBody('A secret provisioned agent'),
      channels: [{ type: 'telegram', credentials: { botToken: '1:A-secret' } }],
    },
  });
  expect(provisioning.status).toBe(202);
  idsA.provisioning = provisioning.body.provisioningId;
  await topUp(api, tenantA.token);
  const purchase = await api.request('POST', '/v1/tokens/purchase', {
    token: tenantA.token,
    body: { amount: 5 },
    headers: { 'idempotency-key': 'matrix-purchase' },
  });
  idsA.tokens = purchase.body.purchase.id;
  await api.request('POST', `/v1/agents/${idsA.agents}/start`, { token: tenantA.token });
  const turn = await api.request('POST', `/v1/agents/${idsA.agents}/chat`, {
    token: tenantA.token,
    body: { message: 'A secret question' },
  });
  idsA.conversations = turn.body.conversationId;
  idsA.executions = turn.body.executionId;
  // A suggestion (calls wait for the user) and an approval (payments wait for a coordinator).
  const call = await api.request('POST', `/v1/agents/${idsA.agents}/chat`, {
    token: tenantA.token,
    body: { message: 'call +15551234567 about A secret question' },
  });
  idsA.suggestions = call.body.actions[0].actionId;
  idsA.actions = idsA.suggestions;
  const payment = await api.request('POST', `/v1/agents/${idsA.agents}/chat`, {
    token: tenantA.token,
    body: { message: 'charge 20 USD for A secret question' },
  });
  idsA.approvals = payment.body.actions[0].approvalId;
}, 60_000);

afterAll(async () => {
  await api.platform.stop();
});

describe('401 without a valid token', () => {
  let forged: string;
  let expired: string;
  let wrongAudience: string;

  beforeAll(async () => {
    const claims = {
      'cognito:username': tenantA.ownerId,
      'custom:tenantId': tenantA.tenantId,
      'cognito:groups': ['owner'],
    };
    const issuer = `${api.platform.url}/local-issuer`;
    const { privateKey } = await generateKeyPair('RS256');
    forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: (await exportJWK(privateKey)).kid ?? 'forged' })
      .setIssuer(issuer)
      .setAudience('agent-platform-local')
      .setExpirationTime('1h')
      .sign(privateKey);
    // Expired and wrong-audience tokens need the real key: take them from the issuer's own JWK via the env the platform set.
    const { importJWK } = await import('jose');
    const realKey = await importJWK(JSON.parse(process.env.LOCAL_SIGNING_JWK ?? '{}'), 'RS256');
    const kid = (JSON.parse(process.env.LOCAL_SIGNING_JWK ?? '{}') as { kid: string }).kid;
    expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setAudience('agent-platform-local')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(realKey);
    wrongAudience = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setAudience('some-other-app')
      .setExpirationTime('1h')
      .sign(realKey);
  });

  it.each(PROTECTED.map(([key]) => key))('%s', async (key) => {
    const { method, path } = pathFor(key, idsA);
    const body = bodyFor(key);
    for (const authorization of [
      undefined,
      'Bearer not-a-jwt',
      `Bearer ${forged}`,
      `Bearer ${expired}`,
      `Bearer ${wrongAudience}`,
      tenantA.token,
    ]) {
      const response = await api.request(method, path, {
        ...(body === undefined ? {} : { body }),
        headers:
          authorization === undefined
            ? {}
            : { authorization: authorization === tenantA.token ? `Basic ${tenantA.token}` : authorization },
      });
      expect({ key, authorization: authorization?.slice(0, 20), status: response.status }).toEqual({
        key,
        authorization: authorization?.slice(0, 20),
        status: 401,
      });
    }
  });
});

describe('403 for a role without the permission', () => {
  // Operator routes refuse every tenant role (roleAllows knows no `operator` permission).
  const cases = PROTECTED.flatMap(([key, spec]) =>
    ROLES.filter((role) => !roleAllows(role, spec.permission as never)).map((role) => [key, role] as const),
  );

  it('covers every operator route for every tenant role, owners included', () => {
    expect(OPERATOR_ROUTES.length).toBeGreaterThan(0);
    for (const [key] of OPERATOR_ROUTES) {
      expect(cases.filter(([k]) => k === key).map(([, role]) => role)).toEqual([...ROLES]);
    }
  });

  it('some role is refused somewhere (the matrix is not empty)', () => {
    expect(cases.length).toBeGreaterThan(10);
  });

  it.each(cases)('%s as %s', async (key, role) => {
    // The role check comes before any lookup, so whose ids these are does not matter.
    const { method, path } = pathFor(key, idsA);
    const body = bodyFor(key);
    const response = await api.request(method, path, {
      token: tokensB[role],
      ...(body === undefined ? {} : { body }),
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });
});

describe('platform operators', () => {
  let operator: string;
  beforeAll(async () => {
    operator = await operatorToken(api);
  });

  it.each(TENANT_ROUTES.map(([key]) => key))('are refused on %s (403)', async (key) => {
    const { method, path } = pathFor(key, idsA);
    const body = bodyFor(key);
    const response = await api.request(method, path, {
      token: operator,
      ...(body === undefined ? {} : { body }),
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect(response.text).not.toContain('A secret');
  });

  it('reach operator routes for any tenant, and a tenant owner on its own tenant does not', async () => {
    const read = await api.request('GET', `/v1/operator/tenants/${tenantA.tenantId}/tokens/balance`, {
      token: operator,
    });
    expect(read.status).toBe(200);
    expect(read.body.tenantId).toBe(tenantA.tenantId);
    const own = await api.request('GET', `/v1/operator/tenants/${tenantA.tenantId}/tokens/balance`, {
      token: tenantA.token,
    });
    expect(own.status).toBe(403);
  });

  it('cannot be forged: a tenant token that also claims the operator group is refused everywhere', async () => {
    const { importJWK } = await import('jose');
    const jwk = JSON.parse(process.env.LOCAL_SIGNING_JWK ?? '{}') as import('jose').JWK;
    const both = await new SignJWT({
      'cognito:username': tenantA.ownerId,
      'custom:tenantId': tenantA.tenantId,
      'cognito:groups': ['owner', 'platform-operators'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .setIssuer(`${api.platform.url}/local-issuer`)
      .setAudience('agent-platform-local')
      .setExpirationTime('1h')
      .sign(await importJWK(jwk, 'RS256'));
    for (const path of ['/v1/tokens/balance', `/v1/operator/tenants/${tenantA.tenantId}/tokens/balance`]) {
      expect((await api.request('GET', path, { token: both })).status).toBe(403);
    }
  });
});

describe("404 for another tenant's ids", () => {
  const withIds = PROTECTED.filter(([key]) => key.includes('{id}'));

  it.each(withIds.map(([key]) => key))('%s', async (key) => {
    const { method, path } = pathFor(key, idsA);
    const body = bodyFor(key);
    const response = await api.request(method, path, {
      token: tenantB.token,
      ...(body === undefined ? {} : { body }),
    });
    expect(response.status).toBe(404);
    expect(response.text).not.toContain('A secret agent');
    expect(response.text).not.toContain('A HQ');
    expect(response.text).not.toContain('A secret memory');
    expect(response.text).not.toContain('A secret question');
    expect(response.text).not.toContain('+14155550123');
    expect(response.text).not.toContain(tenantA.tenantId);
  });

  it("leaves tenant A's records untouched", async () => {
    const agent = await api.request('GET', `/v1/agents/${idsA.agents}`, { token: tenantA.token });
    expect(agent.status).toBe(200);
    expect(agent.body).toMatchObject({
      name: 'A secret agent',
      version: 2,
      status: 'active',
      channels: [{ type: 'sms', enabled: true, address: '+14155550123' }],
    });
    const channels = await api.request('GET', `/v1/agents/${idsA.agents}/channels`, { token: tenantA.token });
    expect(channels.body.items).toEqual([
      expect.objectContaining({
        type: 'sms',
        address: '+14155550123',
        credentialsSet: ['accountSid', 'authToken'],
      }),
    ]);
    const user = await api.request('GET', `/v1/users/${idsA.users}`, { token: tenantA.token });
    expect(user.status).toBe(200);
    const location = await api.request('GET', `/v1/locations/${idsA.locations}`, { token: tenantA.token });
    expect(location.body).toMatchObject({ name: 'A HQ', version: 1 });
    const memory = await api.request('GET', `/v1/memories/${idsA.memories}`, { token: tenantA.token });
    expect(memory.body).toMatchObject({ content: 'A secret memory', version: 1 });
    const conversation = await api.request('GET', `/v1/conversations/${idsA.conversations}`, {
      token: tenantA.token,
    });
    expect(conversation.body).toMatchObject({ status: 'active', messageCount: 6 });
    const suggestion = await api.request('GET', `/v1/actions/${idsA.suggestions}`, { token: tenantA.token });
    expect(suggestion.body).toMatchObject({ status: 'awaiting_confirmation' });
    const approval = await api.request('GET', `/v1/approvals/${idsA.approvals}`, { token: tenantA.token });
    expect(approval.body).toMatchObject({ status: 'pending' });
  });

  it("lists only the caller's own records", async () => {
    for (const path of [
      '/v1/agents',
      '/v1/users',
      '/v1/locations',
      '/v1/conversations',
      '/v1/tools/executions',
      '/v1/actions',
      '/v1/approvals',
      '/v1/audit',
      '/v1/dev/outbox',
    ]) {
      const response = await api.request('GET', path, { token: tenantB.token });
      expect(response.status).toBe(200);
      expect(
        response.body.items.every((item: { tenantId: string }) => item.tenantId === tenantB.tenantId),
      ).toBe(true);
      expect(response.text).not.toContain(tenantA.tenantId);
    }
    const tenant = await api.request('GET', '/v1/tenant', { token: tenantB.token });
    expect(tenant.body.id).toBe(tenantB.tenantId);
  });
});

describe("another tenant's provisionings (GET /v1/provisioning)", () => {
  it('are never listed, not even by their agent id; the owner lists them', async () => {
    const own = await api.request('GET', '/v1/provisioning', { token: tenantA.token });
    expect(own.body.items.map((p: { id: string }) => p.id)).toContain(idsA.provisioning);
    const provisionedAgent = own.body.items.find((p: { id: string }) => p.id === idsA.provisioning).agentId;
    const own2 = await api.request('POST', '/v1/agents/provision', {
      token: tenantB.token,
      body: { agent: agentBody('B desk'), channels: [{ type: 'voice' }] },
    });
    expect(own2.status).toBe(202);
    for (const path of ['/v1/provisioning', `/v1/provisioning?agentId=${provisionedAgent}`]) {
      const response = await api.request('GET', path, { token: tenantB.token });
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(String(idsA.provisioning));
      expect(response.text).not.toContain('A secret');
    }
    const listed = await api.request('GET', '/v1/provisioning', { token: tenantB.token });
    expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual([own2.body.provisioningId]);
  });
});

describe('the local email intake (POST /v1/dev/email/inbound)', () => {
  it("routes by mailbox only: a caller's token does not matter, and the answer names no tenant or agent", async () => {
    const mailbox = `security-${Date.now()}@acme-dental.example`;
    const setUp = await api.request('PUT', `/v1/agents/${idsA.agents}/channels/email`, {
      token: tenantA.token,
      body: { address: mailbox },
    });
    expect(setUp.status).toBe(200);
    const raw = [
      'From: outsider@example.com',
      `To: ${mailbox}`,
      'Subject: Hello',
      `Message-ID: <security-${Date.now()}@example.com>`,
      '',
      'Hello',
    ].join('\r\n');
    const posted = await api.request('POST', '/v1/dev/email/inbound', {
      token: tokensB.owner,
      rawBody: raw,
      headers: { 'content-type': 'message/rfc822' },
    });
    expect(posted.status).toBe(202);
    expect(posted.text).not.toContain(tenantA.tenantId);
    expect(posted.text).not.toContain(String(idsA.agents));
    const outboxB = await api.request('GET', '/v1/dev/outbox?kind=email', { token: tenantB.token });
    expect(outboxB.body.items).toEqual([]);
  });
});

describe('the local phone (POST /v1/dev/calls)', () => {
  it("routes by the dialled number only: a caller's token does not matter, and the answer names no tenant or agent", async () => {
    const number = '+15558880142';
    const setUp = await api.request('PUT', `/v1/agents/${idsA.agents}/channels/voice`, {
      token: tenantA.token,
      body: { address: number },
    });
    expect(setUp.status).toBe(200);
    const called = await api.request('POST', '/v1/dev/calls', {
      token: tokensB.owner,
      body: { to: number, from: '+15558880143' },
    });
    expect(called.status).toBe(200);
    expect(called.text).not.toContain(tenantA.tenantId);
    expect(called.text).not.toContain(String(idsA.agents));
    // B's conversations gain nothing from a call to A's number.
    const conversationsB = await api.request('GET', '/v1/conversations?limit=100', { token: tenantB.token });
    expect(conversationsB.body.items.some((c: { channel: string }) => c.channel === 'voice')).toBe(false);
  });
});

describe('public routes', () => {
  it('are exactly the ones that check a proof of their own (a password, a session, a signature)', () => {
    const publicRoutes = (Object.entries(ROUTES) as [string, RouteSpec][])
      .filter(([, spec]) => spec.permission === 'public')
      .map(([key]) => key);
    expect(publicRoutes).toEqual(
      expect.arrayContaining([
        'POST /v1/auth/login',
        'POST /v1/auth/login/challenge',
        'POST /v1/auth/mfa/totp',
        'POST /v1/auth/mfa/totp/verify',
        // Provider webhooks: the provider's signature or secret token (test/e2e/chat-webhooks.test.ts).
        'POST /v1/webhooks/slack',
        'POST /v1/webhooks/telegram/{channelKey}',
        'GET /v1/webhooks/meta',
        'POST /v1/webhooks/meta',
        // Local mode's phone: anyone may dial a number; it routes by the number (local only).
        'POST /v1/dev/calls',
      ]),
    );
  });

  it("do not let tenant B's token act on tenant A's user: MFA enrolment needs A's own password", async () => {
    for (const path of ['/v1/auth/mfa/totp', '/v1/auth/mfa/totp/verify']) {
      const response = await api.request('POST', path, {
        token: tokensB.owner,
        body: {
          email: tenantA.email,
          password: 'Not-A-Password-1',
          ...(path.endsWith('verify') ? { code: '123456' } : {}),
        },
      });
      expect(response.status).toBe(401);
      expect(response.text).not.toMatch(/secretCode|otpauth/);
    }
    // A stays without MFA: its login still answers with a token, not a challenge.
    const login = await api.request('POST', '/v1/auth/login', {
      body: { email: tenantA.email, password: PASSWORD },
    });
    expect(login.body.token).toEqual(expect.any(String));
  });

  it("do not let a session started by tenant B's user answer for tenant A's user", async () => {
    const answer = await api.request('POST', '/v1/auth/login/challenge', {
      token: tokensB.owner,
      body: {
        email: tenantA.email,
        challenge: 'SOFTWARE_TOKEN_MFA',
        session: 'b'.repeat(43),
        code: '123456',
      },
    });
    expect(answer.status).toBe(401);
    expect(answer.body.token).toBeUndefined();
  });
});
