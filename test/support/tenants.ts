import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type DynamoTenantRepository, tenantItem } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { newTenantWithOwner } from '../../lambdas/domain/tenants/new-tenant';
import type { Tenant, User } from '../../lambdas/domain/tenants/schemas';

/** A tenant and its owner as registration builds them (not yet stored). */
export function tenantAndOwner(name = 'Tenant', slug?: string): { tenant: Tenant; owner: User } {
  const id = newId('tenant');
  const ownerId = newId('user');
  return newTenantWithOwner(
    { id, name, slug: slug ?? `t-${id.slice(-12).toLowerCase()}` },
    { id: ownerId, email: `${ownerId}@example.test`, name: 'Owner' },
    new Date().toISOString(),
  );
}

/** Stores a registered tenant (tenant item, slug claim, owner) and returns its owner as a principal. */
export async function seedTenant(tenants: DynamoTenantRepository, name = 'Tenant'): Promise<Principal> {
  const { tenant, owner } = tenantAndOwner(name);
  await tenants.claimSlug(tenant.slug, tenant.id);
  await tenants.createWithOwner(tenant, owner);
  return { tenantId: tenant.id, userId: owner.id, role: 'owner' };
}

/**
 * Stores `count` active tenants (the tenant items only, as registration stores them) with
 * BatchWriteItem, 25 at a time, a few batches in flight: for runs over thousands of tenants, where
 * registering each in its own transaction would take minutes. Returns their ids.
 */
export async function seedTenantsInBulk(
  client: DynamoDBDocumentClient,
  tableName: string,
  count: number,
  name = 'Bulk',
): Promise<string[]> {
  const tenants = Array.from({ length: count }, (_, i) => tenantAndOwner(`${name} ${i}`).tenant);
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < tenants.length; i += 25) {
    batches.push(tenants.slice(i, i + 25).map((tenant) => ({ PutRequest: { Item: tenantItem(tenant) } })));
  }
  await inParallel(batches, 4, async (requests) => {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
      const { UnprocessedItems } = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending as never } }),
      );
      pending = (UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
    }
  });
  return tenants.map((tenant) => tenant.id);
}

/** Runs `work` on every item, at most `concurrency` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
