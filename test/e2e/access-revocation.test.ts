import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { tenantKey } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { DynamoUserRepository } from '../../lambdas/adapters/dynamodb/user-repository';
import { type ApiClient, PASSWORD, registerTenant, startApi, userWithRole } from '../support/api';

/**
 * Issue 9, items 1 and 2: a token is only as good as its user's record right now, and a tenant
 * never loses its last owner, even to two owners acting at the same moment.
 */
let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

const login = (email: string) =>
  api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });

describe('a token follows its user’s record, request by request', () => {
  it('a deleted admin’s token is refused at once (401), for reads and writes alike', async () => {
    const owner = await registerTenant(api);
    const admin = await userWithRole(api, owner.token, 'admin');
    expect((await api.request('GET', '/v1/users', { token: admin.token })).status).toBe(200);

    const deleted = await api.request('DELETE', `/v1/users/${admin.userId}`, { token: owner.token });
    expect(deleted.status).toBe(204);

    const list = await api.request('GET', '/v1/users', { token: admin.token });
    expect(list.status).toBe(401);
    expect(list.body.error.message).toMatch(/no longer exists/);
    const create = await api.request('POST', '/v1/users', {
      token: admin.token,
      body: { email: `late-${Date.now()}@example.test`, name: 'Late', password: PASSWORD, role: 'admin' },
    });
    expect(create.status).toBe(401);
    const agent = await api.request('POST', '/v1/agents', {
      token: admin.token,
      body: { name: 'X', businessType: 'dental', model: { provider: 'scripted', modelId: 'scripted-v1' } },
    });
    expect(agent.status).toBe(401);
    expect((await login(admin.email)).status).toBe(401);
  });

  it('disabling refuses the token and the sign-in; enabling restores both', async () => {
    const owner = await registerTenant(api);
    const admin = await userWithRole(api, owner.token, 'admin');

    const disabled = await api.request('PATCH', `/v1/users/${admin.userId}`, {
      token: owner.token,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ status: 'disabled', role: 'admin' });

    const refused = await api.request('GET', '/v1/users', { token: admin.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/disabled/);
    const signIn = await login(admin.email);
    expect(signIn.status).toBe(401);
    expect(signIn.body.error.message).toMatch(/disabled/);
    // A wrong password still says only that: being disabled is not revealed to a guesser.
    const guess = await api.request('POST', '/v1/auth/login', {
      body: { email: admin.email, password: 'Wrong-Horse-99' },
    });
    expect(guess.body.error.message).not.toMatch(/disabled/);

    const listed = await api.request('GET', `/v1/users/${admin.userId}`, { token: owner.token });
    expect(listed.body.status).toBe('disabled');

    const enabled = await api.request('PATCH', `/v1/users/${admin.userId}`, {
      token: owner.token,
      body: { status: 'active' },
    });
    expect(enabled.status).toBe(200);
    expect((await api.request('GET', '/v1/users', { token: admin.token })).status).toBe(200);
    expect((await login(admin.email)).status).toBe(200);
  });

  it('a demotion takes effect on the next request, with the same token', async () => {
    const owner = await registerTenant(api);
    const admin = await userWithRole(api, owner.token, 'admin');
    const demoted = await api.request('PATCH', `/v1/users/${admin.userId}`, {
      token: owner.token,
      body: { role: 'member' },
    });
    expect(demoted.status).toBe(200);
    const list = await api.request('GET', '/v1/users', { token: admin.token });
    expect(list.status).toBe(403);
    expect(list.body.error.message).toMatch(/member/);
  });

  it('nobody disables or enables themselves, and admins cannot disable owners', async () => {
    const owner = await registerTenant(api);
    const admin = await userWithRole(api, owner.token, 'admin');
    const self = await api.request('PATCH', `/v1/users/${owner.ownerId}`, {
      token: owner.token,
      body: { status: 'disabled' },
    });
    expect(self.status).toBe(403);
    const ownerByAdmin = await api.request('PATCH', `/v1/users/${owner.ownerId}`, {
      token: admin.token,
      body: { status: 'disabled' },
    });
    expect(ownerByAdmin.status).toBe(403);
    const bad = await api.request('PATCH', `/v1/users/${admin.userId}`, {
      token: owner.token,
      body: { status: 'gone' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('body.status');
  });
});

describe('the last owner, under concurrency', () => {
  async function ownerCounts(tenantId: string) {
    const client = createDocumentClient({ region: 'us-east-1', endpoint: api.platform.dynamoEndpoint });
    try {
      const { Item } = await client.send(
        new GetCommand({ TableName: api.platform.tableName, Key: tenantKey(tenantId), ConsistentRead: true }),
      );
      const counted = await new DynamoUserRepository(client, api.platform.tableName).countOwners(tenantId);
      return { counter: Item?.ownerCount as number, counted };
    } finally {
      client.destroy();
    }
  }

  it('two owners demoting or disabling each other at once: exactly one succeeds, 20 times over', async () => {
    const first = await registerTenant(api);
    const second = await userWithRole(api, first.token, 'owner');
    const owners = [
      { id: first.ownerId, token: first.token },
      { id: second.userId, token: second.token },
    ] as const;
    for (let round = 0; round < 20; round++) {
      // Even rounds demote, odd rounds disable: both take an owner away.
      const change = round % 2 === 0 ? { role: 'admin' } : { status: 'disabled' };
      const [a, b] = await Promise.all([
        api.request('PATCH', `/v1/users/${owners[1].id}`, { token: owners[0].token, body: change }),
        api.request('PATCH', `/v1/users/${owners[0].id}`, { token: owners[1].token, body: change }),
      ]);
      const statuses = [a.status, b.status];
      // The loser is refused as a conflict (the counter) or, if it was demoted or disabled before
      // its request was read, as the admin it has become (403) or as a disabled user (401).
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => [401, 403, 409].includes(status))).toHaveLength(1);
      expect(await ownerCounts(first.tenantId)).toEqual({ counter: 1, counted: 1 });
      // The winner restores the other for the next round.
      const [winner, loser] = a.status === 200 ? [owners[0], owners[1]] : [owners[1], owners[0]];
      const restore = round % 2 === 0 ? { role: 'owner' } : { status: 'active' };
      const restored = await api.request('PATCH', `/v1/users/${loser.id}`, {
        token: winner.token,
        body: restore,
      });
      expect(restored.status).toBe(200);
      expect(await ownerCounts(first.tenantId)).toEqual({ counter: 2, counted: 2 });
    }
  }, 60_000);

  it('an owner deleting the other while being demoted by them: one of the two wins', async () => {
    const first = await registerTenant(api);
    const second = await userWithRole(api, first.token, 'owner');
    const [deleted, demoted] = await Promise.all([
      api.request('DELETE', `/v1/users/${second.userId}`, { token: first.token }),
      api.request('PATCH', `/v1/users/${first.ownerId}`, { token: second.token, body: { role: 'member' } }),
    ]);
    expect([deleted.status === 204, demoted.status === 200].filter(Boolean)).toHaveLength(1);
    expect(await ownerCounts(first.tenantId)).toEqual({ counter: 1, counted: 1 });
  });
});
