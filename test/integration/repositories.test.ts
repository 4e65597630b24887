import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { DynamoUserRepository } from '../../lambdas/adapters/dynamodb/user-repository';
import { createAgent, runLifecycleCommand, updateAgent } from '../../lambdas/domain/agents/agents';
import { agentCreateBody } from '../../lambdas/domain/agents/schemas';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { freshTable } from '../support/dynamodb';
import { tenantAndOwner } from '../support/tenants';

let table: Awaited<ReturnType<typeof freshTable>>;
let deps: { agents: DynamoAgentRepository; locations: DynamoLocationRepository };
let tenants: DynamoTenantRepository;
let users: DynamoUserRepository;

const principal = (tenantId = newId('tenant')): Principal => ({
  tenantId,
  userId: newId('user'),
  role: 'owner',
});
const config = (name = 'Agent') =>
  agentCreateBody().parse({
    name,
    businessType: 'dental',
    model: { provider: 'scripted', modelId: 'scripted-v1' },
  });

const tenantAndOwnerWithSlug = (slug: string) => tenantAndOwner(slug, slug);

beforeAll(async () => {
  table = await freshTable();
  deps = {
    agents: new DynamoAgentRepository(table.client, table.tableName),
    locations: new DynamoLocationRepository(table.client, table.tableName),
  };
  tenants = new DynamoTenantRepository(table.client, table.tableName);
  users = new DynamoUserRepository(table.client, table.tableName);
});

describe('agents on DynamoDB Local', () => {
  it('lets exactly one of 20 concurrent updates from the same version win', async () => {
    const actor = principal();
    const agent = await createAgent(deps, actor, config());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        updateAgent(deps, actor, agent.id, { instructions: `writer ${i}` }, 1),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    expect(lost.every((o) => o.reason instanceof ConflictError)).toBe(true);
    const stored = await deps.agents.get(actor.tenantId, agent.id);
    expect(stored?.version).toBe(2);
    expect(stored?.instructions).toBe(
      (won[0] as PromiseFulfilledResult<{ instructions: string }>).value.instructions,
    );
    const versions = await deps.agents.listVersions(actor.tenantId, agent.id, { limit: 10 });
    expect(versions.items.map((v) => v.version)).toEqual([2, 1]);
  });

  it('moves status once when the same command races with itself', async () => {
    const actor = principal();
    const agent = await createAgent(deps, actor, config());
    await runLifecycleCommand(deps, actor, agent.id, 'start');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => runLifecycleCommand(deps, actor, agent.id, 'pause')),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refusals = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(
      refusals.every((o) => o.reason instanceof ConflictError && /that is paused/.test(o.reason.message)),
    ).toBe(true);
  });

  it('does not change configuration when a lifecycle command runs, nor status when configuration changes', async () => {
    const actor = principal();
    const agent = await createAgent(deps, actor, config());
    await runLifecycleCommand(deps, actor, agent.id, 'start');
    const updated = await updateAgent(deps, actor, agent.id, { name: 'Renamed' });
    expect(updated).toMatchObject({ status: 'active', version: 2 });
    expect(await deps.agents.get(actor.tenantId, agent.id)).toMatchObject({
      status: 'active',
      name: 'Renamed',
      version: 2,
    });
  });

  it('hides soft-deleted agents and refuses to change them', async () => {
    const actor = principal();
    const agent = await createAgent(deps, actor, config('Doomed'));
    await deps.agents.softDelete(actor.tenantId, agent.id, actor.userId);
    expect(await deps.agents.get(actor.tenantId, agent.id)).toBeUndefined();
    await expect(deps.agents.softDelete(actor.tenantId, agent.id, actor.userId)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      deps.agents.transition(actor.tenantId, agent.id, ['draft'], 'active', actor.userId),
    ).rejects.toBeInstanceOf(NotFoundError);
    const byName = await deps.agents.list(actor.tenantId, { limit: 10, sort: 'name', order: 'asc' });
    expect(byName.items).toHaveLength(0);
  });

  it("never reads another tenant's agent, whatever id is asked for", async () => {
    const a = principal();
    const b = principal();
    const agent = await createAgent(deps, a, config());
    expect(await deps.agents.get(b.tenantId, agent.id)).toBeUndefined();
    await expect(updateAgent(deps, b, agent.id, { name: 'hijack' })).rejects.toBeInstanceOf(NotFoundError);
    expect(
      (await deps.agents.list(b.tenantId, { limit: 10, sort: 'createdAt', order: 'desc' })).items,
    ).toHaveLength(0);
  });

  it("rejects a cursor minted for another tenant's listing", async () => {
    const a = principal();
    await createAgent(deps, a, config('one'));
    await createAgent(deps, a, config('two'));
    const page = await deps.agents.list(a.tenantId, { limit: 1, sort: 'createdAt', order: 'desc' });
    expect(page.nextCursor).toBeDefined();
    await expect(
      deps.agents.list(newId('tenant'), {
        limit: 1,
        sort: 'createdAt',
        order: 'desc',
        cursor: page.nextCursor ?? '',
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('tenants and users on DynamoDB Local', () => {
  it('claims a slug once (platform-level): the second claim is a 409 naming the field', async () => {
    const first = tenantAndOwnerWithSlug('unique-slug');
    const second = tenantAndOwnerWithSlug('unique-slug');
    const outcomes = await Promise.allSettled([
      tenants.claimSlug('unique-slug', first.tenant.id),
      tenants.claimSlug('unique-slug', second.tenant.id),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    expect(refused.reason).toMatchObject({ details: { field: 'body.tenant.slug' } });
  });

  it('undoes a registration completely, and releases a slug only for the tenant holding it', async () => {
    const { tenant, owner } = tenantAndOwnerWithSlug('undo-me');
    await tenants.claimSlug(tenant.slug, tenant.id);
    await tenants.createWithOwner(tenant, owner);
    await tenants.releaseSlug(tenant.slug, newId('tenant'));
    const thief = tenantAndOwnerWithSlug('undo-me');
    await expect(tenants.claimSlug('undo-me', thief.tenant.id)).rejects.toBeInstanceOf(ConflictError);
    await tenants.deleteRegistration(tenant, owner.id);
    await tenants.releaseSlug(tenant.slug, tenant.id);
    expect(await tenants.get(tenant.id)).toBeUndefined();
    expect(await users.get(tenant.id, owner.id)).toBeUndefined();
    const again = tenantAndOwnerWithSlug('undo-me');
    await expect(tenants.claimSlug('undo-me', again.tenant.id)).resolves.toBeUndefined();
    await expect(tenants.createWithOwner(again.tenant, again.owner)).resolves.toBeUndefined();
  });

  it('updates users under optimistic concurrency', async () => {
    const { tenant, owner } = tenantAndOwnerWithSlug('users-co');
    await tenants.createWithOwner(tenant, owner);
    await users.update(tenant.id, owner.id, { name: 'First' }, 1);
    await expect(users.update(tenant.id, owner.id, { name: 'Stale' }, 1)).rejects.toMatchObject({
      statusCode: 409,
      details: { currentVersion: 2 },
    });
    await expect(users.update(tenant.id, newId('user'), { name: 'Ghost' }, 1)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await users.countOwners(tenant.id)).toBe(1);
  });
});

describe('key layout', () => {
  it('puts every tenant-owned item under a partition key that starts with its tenant', async () => {
    // A Scan is fine here: it is the test checking the layout, not runtime code.
    const { Items = [] } = await table.client.send(new ScanCommand({ TableName: table.tableName }));
    expect(Items.length).toBeGreaterThan(10);
    for (const item of Items) {
      const pk = String(item.pk);
      if (pk.startsWith('SLUG#')) continue; // the one global lookup: slug → tenant
      expect(pk).toMatch(/^T#ten_[0-9A-Z]{26}(#|$)/);
      if (typeof item.tenantId === 'string' && item.entity !== 'slug')
        expect(pk.startsWith(`T#${item.tenantId}`)).toBe(true);
      // The tenant listing index (`TENANTS`) is the platform-level lookup the billing run reads.
      if (item.gsi1pk !== undefined && item.gsi1pk !== 'TENANTS')
        expect(String(item.gsi1pk).startsWith(pk.split('#').slice(0, 2).join('#'))).toBe(true);
    }
  });
});
