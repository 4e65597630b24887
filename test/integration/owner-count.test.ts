import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { DynamoTenantRepository, tenantKey } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { DynamoUserRepository } from '../../lambdas/adapters/dynamodb/user-repository';
import { ConflictError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import type { IdentityProvider } from '../../lambdas/domain/tenants/ports';
import type { User } from '../../lambdas/domain/tenants/schemas';
import { deleteUser, updateUser } from '../../lambdas/domain/tenants/users';
import { freshTable } from '../support/dynamodb';
import { tenantAndOwner } from '../support/tenants';

/** Issue 9, item 2: the last-owner rule holds under concurrency, with the counter always exact. */
let table: Awaited<ReturnType<typeof freshTable>>;
let users: DynamoUserRepository;
let tenants: DynamoTenantRepository;

beforeAll(async () => {
  table = await freshTable();
  users = new DynamoUserRepository(table.client, table.tableName);
  tenants = new DynamoTenantRepository(table.client, table.tableName);
});

/** What the use cases asked of the identity provider, in order. */
const identityCalls: string[] = [];
const identity: IdentityProvider = {
  createUser: async () => undefined,
  authenticate: async () => {
    throw new Error('not used');
  },
  respondToChallenge: async () => {
    throw new Error('not used');
  },
  beginTotpEnrolment: async () => {
    throw new Error('not used');
  },
  confirmTotpEnrolment: async () => {
    throw new Error('not used');
  },
  disableTotp: async () => {
    throw new Error('not used');
  },
  totpEnabled: async () => false,
  resetMfa: async () => {
    throw new Error('not used');
  },
  setRole: async (email, role) => void identityCalls.push(`setRole ${email} ${role}`),
  disableUser: async (email) => void identityCalls.push(`disable ${email}`),
  enableUser: async (email) => void identityCalls.push(`enable ${email}`),
  deleteUser: async (email) => void identityCalls.push(`delete ${email}`),
};

async function counter(tenantId: string): Promise<number | undefined> {
  const { Item } = await table.client.send(
    new GetCommand({ TableName: table.tableName, Key: tenantKey(tenantId), ConsistentRead: true }),
  );
  return Item?.ownerCount as number | undefined;
}

/** A tenant with `owners` owners (the registered one first), each as a principal. */
async function tenantWithOwners(owners: number): Promise<{ tenantId: string; owners: User[] }> {
  const { tenant, owner } = tenantAndOwner();
  await tenants.createWithOwner(tenant, owner);
  const all: User[] = [owner];
  for (let i = 1; i < owners; i++) {
    const user: User = { ...owner, id: newId('user'), email: `o${i}-${owner.email}` };
    await users.create(user);
    all.push(user);
  }
  return { tenantId: tenant.id, owners: all };
}

const asPrincipal = (user: User): Principal => ({
  tenantId: user.tenantId,
  userId: user.id,
  role: user.role,
});

const settle = async (attempts: Promise<unknown>[]) => {
  const results = await Promise.allSettled(attempts);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  return { succeeded: results.length - failures.length, failures };
};

describe('the owner counter', () => {
  it('starts at 1 on registration and follows creations, promotions, disables and deletions', async () => {
    const { tenantId, owners } = await tenantWithOwners(3);
    expect(await counter(tenantId)).toBe(3);
    const [first, second, third] = owners as [User, User, User];
    const deps = { users, identity, locations: new DynamoLocationRepository(table.client, table.tableName) };
    identityCalls.length = 0;
    await updateUser(deps, asPrincipal(first), second.id, { status: 'disabled' });
    expect(await counter(tenantId)).toBe(2);
    await deleteUser(deps, asPrincipal(first), second.id); // disabled: not counted, so no change
    expect(await counter(tenantId)).toBe(2);
    // Disabling, and deleting, each disable the identity (which signs it out everywhere) first.
    expect(identityCalls).toEqual([
      `disable ${second.email}`,
      `disable ${second.email}`,
      `delete ${second.email}`,
    ]);
    const demoted = await updateUser(deps, asPrincipal(first), third.id, { role: 'member' });
    expect(demoted).toMatchObject({ role: 'member', version: 2 });
    expect(await counter(tenantId)).toBe(1);
    await updateUser(deps, asPrincipal(first), third.id, { role: 'owner' });
    expect(await counter(tenantId)).toBe(2);
    expect(await users.countOwners(tenantId)).toBe(2);
  });

  it('20 owners each demoted at once: exactly 19 succeed, one owner is left, the counter says 1', async () => {
    const { tenantId, owners } = await tenantWithOwners(20);
    const { succeeded, failures } = await settle(
      owners.map((owner) => users.update(tenantId, owner.id, { role: 'admin' }, owner.version, -1)),
    );
    expect(succeeded).toBe(19);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(ConflictError);
    expect((failures[0] as Error).message).toMatch(/at least one active owner/);
    expect(await users.countOwners(tenantId)).toBe(1);
    expect(await counter(tenantId)).toBe(1);
  });

  it('20 owners demoting, disabling or deleting one another through the use cases at once', async () => {
    const { tenantId, owners } = await tenantWithOwners(20);
    const deps = { users, identity, locations: new DynamoLocationRepository(table.client, table.tableName) };
    const { succeeded, failures } = await settle(
      owners.map((actor, i) => {
        const target = owners[(i + 1) % owners.length] as User;
        if (i % 3 === 0) return deleteUser(deps, asPrincipal(actor), target.id);
        if (i % 3 === 1) return updateUser(deps, asPrincipal(actor), target.id, { status: 'disabled' });
        return updateUser(deps, asPrincipal(actor), target.id, { role: 'member' });
      }),
    );
    expect(succeeded).toBe(19);
    expect(failures.every((failure) => failure instanceof ConflictError)).toBe(true);
    expect(await users.countOwners(tenantId)).toBe(1);
    expect(await counter(tenantId)).toBe(1);
  });

  it('a tenant from before the counter gets it counted on its first owner change, races included', async () => {
    const { tenantId, owners } = await tenantWithOwners(2);
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: tenantKey(tenantId),
        UpdateExpression: 'REMOVE ownerCount',
      }),
    );
    expect(await counter(tenantId)).toBeUndefined();
    const { succeeded } = await settle(
      owners.map((owner) => users.update(tenantId, owner.id, { role: 'member' }, owner.version, -1)),
    );
    expect(succeeded).toBe(1);
    expect(await users.countOwners(tenantId)).toBe(1);
    expect(await counter(tenantId)).toBe(1);
  });

  it('is never part of the tenant the API returns', async () => {
    const { tenantId } = await tenantWithOwners(1);
    expect(await tenants.get(tenantId)).not.toHaveProperty('ownerCount');
  });
});
