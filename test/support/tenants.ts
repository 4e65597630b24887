import type { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import type { Tenant, User } from '../../lambdas/domain/tenants/schemas';

/** A tenant and its owner as registration builds them (not yet stored). */
export function tenantAndOwner(name = 'Tenant', slug?: string): { tenant: Tenant; owner: User } {
  const now = new Date().toISOString();
  const tenantId = newId('tenant');
  const ownerId = newId('user');
  return {
    tenant: {
      id: tenantId,
      name,
      slug: slug ?? `t-${tenantId.slice(-12).toLowerCase()}`,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      version: 1,
    },
    owner: {
      id: ownerId,
      tenantId,
      email: `${ownerId}@example.test`,
      name: 'Owner',
      role: 'owner',
      status: 'active',
      grants: [],
      locationIds: [],
      createdAt: now,
      updatedAt: now,
      version: 1,
    },
  };
}

/** Stores a registered tenant (tenant item, slug claim, owner) and returns its owner as a principal. */
export async function seedTenant(tenants: DynamoTenantRepository, name = 'Tenant'): Promise<Principal> {
  const { tenant, owner } = tenantAndOwner(name);
  await tenants.createWithOwner(tenant, owner);
  return { tenantId: tenant.id, userId: owner.id, role: 'owner' };
}
