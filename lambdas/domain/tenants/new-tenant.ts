import { newId } from '../shared/ids';
import type { DataScopes } from '../shared/scopes';
import type { TenantRepository } from './ports';
import type { Tenant, User } from './schemas';

/** A new active tenant and its first owner (registration's, and a declared tenant's). */
export function newTenantWithOwner(
  tenant: Pick<Tenant, 'id' | 'name' | 'slug'>,
  owner: Pick<User, 'email' | 'name'> & { readonly id?: string },
  now: string,
): { tenant: Tenant; owner: User } {
  return {
    tenant: {
      id: tenant.id,
      name: tenant.name,
      slug: tenant.slug,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      version: 1,
    },
    owner: {
      id: owner.id ?? newId('user'),
      tenantId: tenant.id,
      email: owner.email,
      name: owner.name,
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

/**
 * A new tenant's records. The slug is global (platform-level), the tenant and its owner are the new
 * tenant's own: two writes under two credentials, the slug first so that a taken slug costs nothing
 * to undo; the slug is released when the second write fails.
 */
export async function createTenantRecords(
  deps: {
    readonly tenants: Pick<TenantRepository, 'claimSlug' | 'releaseSlug' | 'createWithOwner'>;
    readonly scopes: DataScopes;
  },
  tenant: Tenant,
  owner: User,
): Promise<void> {
  await deps.scopes.platform(() => deps.tenants.claimSlug(tenant.slug, tenant.id));
  try {
    await deps.scopes.tenant(tenant.id, () => deps.tenants.createWithOwner(tenant, owner));
  } catch (error) {
    await deps.scopes.platform(() => deps.tenants.releaseSlug(tenant.slug, tenant.id));
    throw error;
  }
}
