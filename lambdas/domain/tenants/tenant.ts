import { NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { TenantRepository } from './ports';
import type { Tenant } from './schemas';

export async function getOwnTenant(deps: { tenants: TenantRepository }, actor: Principal): Promise<Tenant> {
  const tenant = await deps.tenants.get(actor.tenantId);
  if (!tenant) throw new NotFoundError('Tenant', actor.tenantId);
  return tenant;
}

export async function renameTenant(
  deps: { tenants: TenantRepository },
  actor: Principal,
  name: string,
  expectedVersion?: number,
): Promise<Tenant> {
  const tenant = await getOwnTenant(deps, actor);
  return deps.tenants.rename(actor.tenantId, name, expectedVersion ?? tenant.version);
}
