import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataScopes } from '../domain/shared/scopes';

/**
 * Whose data the work in progress may touch. An entry point sets it once, where the tenant is
 * proven (the verified token's tenant, a webhook's routed channel address, a workflow step's or a
 * queue message's tenant), and every table and secret client built by the composition uses that
 * tenant's scoped credentials inside it (tenant-access role on AWS, the local policy check in
 * local mode). Outside any scope a client runs with the function's own, platform-level
 * credentials, which reach no tenant's items: code that forgets to enter a scope fails closed.
 */
const scope = new AsyncLocalStorage<string>();

/**
 * Tenant ids are `ten_<ULID>`. The id becomes a session tag matched by `StringLike` and a secret
 * path segment: letters and digits only, so nothing (`*`, `?`, `#`, `/`) could widen either.
 */
const TENANT_ID = /^ten_[0-9A-Za-z]{1,40}$/;

export function isTenantId(value: string): boolean {
  return TENANT_ID.test(value);
}

/** Runs `work` with `tenantId`'s credentials; a nested scope replaces the outer one. */
export function inTenantScope<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  if (!isTenantId(tenantId)) throw new Error(`Not a tenant id: ${JSON.stringify(tenantId.slice(0, 40))}`);
  return scope.run(tenantId, work);
}

/** Runs `work` with the function's own, platform-level credentials (e.g. a global lookup inside a request). */
export function inPlatformScope<T>(work: () => Promise<T>): Promise<T> {
  return scope.exit(work);
}

/** The tenant of the scope in force, or undefined for platform-level work. */
export function currentTenant(): string | undefined {
  return scope.getStore();
}

/** The scopes as the domain's port (domain/shared/scopes.ts). */
export const DATA_SCOPES: DataScopes = { tenant: inTenantScope, platform: inPlatformScope };
