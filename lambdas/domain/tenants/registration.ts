import { newId } from '../shared/ids';
import type { DataScopes } from '../shared/scopes';
import { createTenantRecords, newTenantWithOwner } from './new-tenant';
import type { IdentityProvider, SignInContext, TenantRepository } from './ports';
import type { AuthToken, RegisterTenantInput, Tenant, User } from './schemas';
import { tokenOf } from './sign-in';

export interface RegistrationDeps {
  readonly tenants: TenantRepository;
  readonly identity: IdentityProvider;
  readonly scopes: DataScopes;
}

export interface Registration {
  readonly tenant: Tenant;
  readonly owner: User;
  readonly auth: AuthToken;
}

function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base.length >= 3 ? base : `tenant-${base}`.replace(/-+$/, '');
}

/**
 * Creates a tenant with its first owner. The records are written first (the slug claimed at
 * platform level, then the tenant and owner in the new tenant's scope); if a later step fails
 * (the identity provider refuses the owner: email taken), what was written is removed again, so a
 * failed registration leaves nothing behind.
 */
/** `context`: where the request came from, for the owner's first sign-in (threat protection). */
export async function registerTenant(
  deps: RegistrationDeps,
  input: RegisterTenantInput,
  context?: SignInContext,
): Promise<Registration> {
  const now = new Date().toISOString();
  const tenantId = newId('tenant');
  const { tenant, owner } = newTenantWithOwner(
    {
      id: tenantId,
      name: input.tenant.name,
      slug: input.tenant.slug ?? `${slugify(input.tenant.name)}-${tenantId.slice(-6).toLowerCase()}`,
    },
    input.owner,
    now,
  );
  await createTenantRecords(deps, tenant, owner);
  try {
    await deps.identity.createUser({
      userId: owner.id,
      tenantId,
      email: owner.email,
      password: input.owner.password,
      role: 'owner',
    });
  } catch (error) {
    await deps.scopes.tenant(tenantId, () => deps.tenants.deleteRegistration(tenant, owner.id));
    await deps.scopes.platform(() => deps.tenants.releaseSlug(tenant.slug, tenantId));
    throw error;
  }
  const auth = tokenOf(await deps.identity.authenticate(owner.email, input.owner.password, context));
  return { tenant, owner, auth };
}
