/**
 * A location that users or agents use cannot be deleted from under them (409 naming them); and a
 * reference left dangling anyway (a deletion racing an attach, data from before the check) never
 * fails a later request over a field the client did not send.
 */
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { type ApiClient, agentBody, PASSWORD, registerTenant, startApi } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
});
afterAll(() => api.platform.stop());

async function newLocation(name: string): Promise<string> {
  const created = await api.request('POST', '/v1/locations', { token: owner.token, body: { name } });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function newUser(body: object): Promise<string> {
  const created = await api.request('POST', '/v1/users', {
    token: owner.token,
    body: {
      email: `u-${Math.random().toString(36).slice(2)}@example.test`,
      name: 'U',
      password: PASSWORD,
      role: 'member',
      ...body,
    },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function newAgent(extra: object = {}): Promise<string> {
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody(), ...extra },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

describe('deleting a location', () => {
  it('is refused with 409 naming every user and agent that refers to it, and deletes nothing', async () => {
    const locationId = await newLocation('Downtown');
    const limited = await newUser({ locationIds: [locationId] });
    const granted = await newUser({ grants: [{ permission: 'sms:send', locationIds: [locationId] }] });
    const elsewhere = await newUser({});
    const agentId = await newAgent({ locationId });
    const unplaced = await newAgent();

    const refused = await api.request('DELETE', `/v1/locations/${locationId}`, { token: owner.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
    expect(refused.body.error.details).toEqual({
      users: expect.arrayContaining([limited, granted]),
      agents: [agentId],
      userCount: 2,
      agentCount: 1,
    });
    for (const id of [locationId, limited, granted, agentId])
      expect(refused.body.error.message).toContain(id);
    for (const id of [elsewhere, unplaced]) expect(refused.text).not.toContain(id);
    expect((await api.request('GET', `/v1/locations/${locationId}`, { token: owner.token })).status).toBe(
      200,
    );
  });

  it('succeeds once every user and agent is detached', async () => {
    const locationId = await newLocation('Uptown');
    const userId = await newUser({ locationIds: [locationId] });
    const agentId = await newAgent({ locationId });
    expect((await api.request('DELETE', `/v1/locations/${locationId}`, { token: owner.token })).status).toBe(
      409,
    );

    const user = await api.request('GET', `/v1/users/${userId}`, { token: owner.token });
    expect(
      (
        await api.request('PATCH', `/v1/users/${userId}`, {
          token: owner.token,
          body: { locationIds: [] },
          headers: { 'if-match': user.headers.get('etag') as string },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api.request('PATCH', `/v1/agents/${agentId}`, {
          token: owner.token,
          body: { locationId: null },
        })
      ).status,
    ).toBe(200);
    expect((await api.request('DELETE', `/v1/locations/${locationId}`, { token: owner.token })).status).toBe(
      204,
    );
  });
});

describe('a reference to a location that no longer exists', () => {
  /** Deletes the location behind the API's back: what a deletion racing an attach leaves. */
  async function vanish(locationId: string) {
    const client = createDocumentClient({ region: 'us-east-1', endpoint: api.platform.dynamoEndpoint });
    await new DynamoLocationRepository(client, api.platform.tableName).delete(owner.tenantId, locationId);
  }

  it('does not fail a clone, which leaves it out', async () => {
    const locationId = await newLocation('Gone soon');
    const agentId = await newAgent({ locationId });
    await vanish(locationId);
    const clone = await api.request('POST', `/v1/agents/${agentId}/clone`, { token: owner.token });
    expect(clone.status).toBe(201);
    expect(clone.body).not.toHaveProperty('locationId');
    expect(clone.body.name).toBe('Front desk (copy)');
  });

  it('keeps a clone’s location when it still exists', async () => {
    const locationId = await newLocation('Still here');
    const agentId = await newAgent({ locationId });
    const clone = await api.request('POST', `/v1/agents/${agentId}/clone`, { token: owner.token });
    expect(clone.status).toBe(201);
    expect(clone.body.locationId).toBe(locationId);
  });

  it('does not fail a rollback to a version placed there: restored without it, and the version says so', async () => {
    const locationId = await newLocation('Old branch');
    const agentId = await newAgent({ locationId });
    expect(
      (
        await api.request('PATCH', `/v1/agents/${agentId}`, {
          token: owner.token,
          body: { locationId: null },
        })
      ).status,
    ).toBe(200);
    expect((await api.request('DELETE', `/v1/locations/${locationId}`, { token: owner.token })).status).toBe(
      204,
    );

    const rolledBack = await api.request('POST', `/v1/agents/${agentId}/versions/1/rollback`, {
      token: owner.token,
    });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).not.toHaveProperty('locationId');
    const version = await api.request('GET', `/v1/agents/${agentId}/versions/${rolledBack.body.version}`, {
      token: owner.token,
    });
    expect(version.body.reason).toContain(`location ${locationId} no longer exists`);
  });
});
