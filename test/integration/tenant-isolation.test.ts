import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { DynamoUserRepository } from '../../lambdas/adapters/dynamodb/user-repository';
import { leadingKeysOf, localTenantCredentials } from '../../lambdas/adapters/local/local-tenant-credentials';
import { routingTableClient } from '../../lambdas/composition/table';
import { DATA_SCOPES, inPlatformScope, inTenantScope } from '../../lambdas/composition/tenant-scope';
import { ConflictError } from '../../lambdas/domain/shared/errors';
import type { IdentityProvider } from '../../lambdas/domain/tenants/ports';
import { registerTenant } from '../../lambdas/domain/tenants/registration';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';
import { seedTenant } from '../support/tenants';

/**
 * The composition's routing table client with the local credential provider, on DynamoDB Local:
 * the check every e2e test runs under. Seeded through an unrouted client (the test's own).
 */
let tableName: string;
let seeded: DynamoTenantRepository;
const routed = () =>
  routingTableClient(
    { AWS_REGION: 'us-east-1', DYNAMODB_ENDPOINT: dynamoEndpoint() },
    localTenantCredentials,
  );
let client: ReturnType<typeof routed>;

beforeAll(async () => {
  const table = await freshTable();
  tableName = table.tableName;
  seeded = new DynamoTenantRepository(table.client, tableName);
  client = routed();
});

const denied = { name: 'AccessDeniedException' };

describe('the routing table client with the local credential provider', () => {
  it("refuses a repository call for tenant B inside tenant A's scope, and allows A's own", async () => {
    const a = await seedTenant(seeded, 'A');
    const b = await seedTenant(seeded, 'B');
    const users = new DynamoUserRepository(client, tableName);
    const tenants = new DynamoTenantRepository(client, tableName);

    await inTenantScope(a.tenantId, async () => {
      expect(await users.getCurrent(a.tenantId, a.userId)).toMatchObject({ id: a.userId });
      expect(await tenants.get(a.tenantId)).toMatchObject({ id: a.tenantId });
      await expect(users.getCurrent(b.tenantId, b.userId)).rejects.toMatchObject(denied);
      await expect(tenants.get(b.tenantId)).rejects.toMatchObject(denied);
      // An index query under A's scope for B's partition.
      await expect(
        new DynamoAgentRepository(client, tableName).list(b.tenantId, { limit: 5, sort: 'name' } as never),
      ).rejects.toMatchObject(denied);
    });
    // Each tenant gets its own client: B's scope reads B.
    await inTenantScope(b.tenantId, async () => {
      expect(await tenants.get(b.tenantId)).toMatchObject({ id: b.tenantId });
    });
    expect(client.tenantClients).toBeGreaterThanOrEqual(2);
  });

  it('keeps platform code outside any scope from reading T#… items; platform keys pass', async () => {
    const a = await seedTenant(seeded, 'Platform');
    const tenants = new DynamoTenantRepository(client, tableName);
    await expect(tenants.get(a.tenantId)).rejects.toMatchObject(denied);
    await expect(
      inPlatformScope(() => new DynamoUserRepository(client, tableName).getCurrent(a.tenantId, a.userId)),
    ).rejects.toMatchObject(denied);
    // Even from inside a tenant's scope, `inPlatformScope` drops the tenant's credentials.
    await inTenantScope(a.tenantId, () =>
      expect(inPlatformScope(() => tenants.get(a.tenantId))).rejects.toMatchObject(denied),
    );
    // The platform listing (gsi1 TENANTS) and a slug claim are platform-level.
    await expect(tenants.listTenantIds({ limit: 1 })).resolves.toMatchObject({ items: expect.any(Array) });
    await expect(tenants.claimSlug(`p-${Date.now()}`, a.tenantId)).resolves.toBeUndefined();
    // A Scan names no leading key: refused in every scope.
    await expect(client.send(new ScanCommand({ TableName: tableName, Limit: 1 }))).rejects.toMatchObject(
      denied,
    );
    await inTenantScope(a.tenantId, () =>
      expect(client.send(new ScanCommand({ TableName: tableName, Limit: 1 }))).rejects.toMatchObject(denied),
    );
  });

  it('refuses prefix tricks: T#<A>x is not A, and a platform key is not a tenant key', async () => {
    const a = await seedTenant(seeded, 'Tricks');
    await inTenantScope(a.tenantId, async () => {
      await expect(
        client.send(new GetCommand({ TableName: tableName, Key: { pk: `T#${a.tenantId}x`, sk: 'TENANT' } })),
      ).rejects.toMatchObject(denied);
      await expect(
        client.send(new GetCommand({ TableName: tableName, Key: { pk: 'SLUG#anything', sk: 'SLUG' } })),
      ).rejects.toMatchObject(denied);
      await expect(
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': 'gsi1pk' },
            ExpressionAttributeValues: { ':p': 'TENANTS' },
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        client.send(
          new GetCommand({ TableName: tableName, Key: { pk: `T#${a.tenantId}#AGENT#x`, sk: 'STATS' } }),
        ),
      ).resolves.toBeDefined();
    });
  });
});

describe('registration under the scopes (slug at platform level, tenant and owner in its scope)', () => {
  const identity = (refuse = false): IdentityProvider =>
    ({
      createUser: async () => {
        if (refuse) throw new ConflictError('owner.email: already registered');
      },
      authenticate: async () => ({ accessToken: 'a', idToken: 'i', expiresIn: 3600, tokenType: 'Bearer' }),
    }) as unknown as IdentityProvider;
  const input = (slug: string) => ({
    tenant: { name: 'Scoped', slug },
    owner: { email: `${slug}@example.test`, name: 'Owner', password: 'Correct-horse-9' },
  });

  it('registers through the routing client, and a taken slug writes nothing', async () => {
    const tenants = new DynamoTenantRepository(client, tableName);
    const slug = `reg-${Date.now()}`;
    const { tenant, owner } = await registerTenant(
      { tenants, identity: identity(), scopes: DATA_SCOPES },
      input(slug),
    );
    expect(await seeded.get(tenant.id)).toMatchObject({ id: tenant.id, slug });
    expect(await new DynamoUserRepository(seededClient(), tableName).get(tenant.id, owner.id)).toBeDefined();

    await expect(
      registerTenant({ tenants, identity: identity(), scopes: DATA_SCOPES }, input(slug)),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('undoes everything, slug included, when the identity provider refuses the owner', async () => {
    const tenants = new DynamoTenantRepository(client, tableName);
    const slug = `refused-${Date.now()}`;
    await expect(
      registerTenant({ tenants, identity: identity(true), scopes: DATA_SCOPES }, input(slug)),
    ).rejects.toBeInstanceOf(ConflictError);
    // The slug is free again: a new registration may take it.
    const { tenant } = await registerTenant(
      { tenants, identity: identity(), scopes: DATA_SCOPES },
      input(slug),
    );
    expect(await seeded.get(tenant.id)).toMatchObject({ slug });
  });
});

describe('leadingKeysOf (what IAM evaluates as dynamodb:LeadingKeys)', () => {
  it('reads every item of a transaction or batch, and a Query on an index by its partition key', () => {
    expect(
      leadingKeysOf({
        TransactItems: [
          { Put: { Item: { pk: { S: 'T#a' } } } },
          { Update: { Key: { pk: { S: 'T#a#X' } } } },
          { ConditionCheck: { Key: { pk: { S: 'T#b' } } } },
        ],
      }),
    ).toEqual(['T#a', 'T#a#X', 'T#b']);
    expect(
      leadingKeysOf({ RequestItems: { t: { Keys: [{ pk: { S: 'T#a' } }, { pk: { S: 'T#b' } }] } } }),
    ).toEqual(['T#a', 'T#b']);
    expect(
      leadingKeysOf({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :s)',
        ExpressionAttributeValues: { ':p': { S: 'RSVHELD#2026' }, ':s': { S: 'x' } },
      }),
    ).toEqual(['RSVHELD#2026']);
    expect(leadingKeysOf({ TableName: 't' })).toEqual([]);
  });
});

function seededClient() {
  return (
    seeded as unknown as { client: import('../../lambdas/adapters/dynamodb/document-client').TableClient }
  ).client;
}
