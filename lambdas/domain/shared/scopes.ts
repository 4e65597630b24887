/**
 * Whose credentials a piece of work runs with, as a port: the composition passes the tenant scope
 * (composition/tenant-scope.ts); the domain says where a use case crosses from platform-level data
 * (a slug claim, a payment lookup, the held-reservation index) to one tenant's and back.
 */
export interface DataScopes {
  /** Runs `work` with `tenantId`'s credentials: only that tenant's items and secrets. */
  tenant<T>(tenantId: string, work: () => Promise<T>): Promise<T>;
  /** Runs `work` with the function's own, platform-level credentials: no tenant's items. */
  platform<T>(work: () => Promise<T>): Promise<T>;
}

/** For code whose clients are not routed by scope (tests with their own client): runs work as is. */
export const UNSCOPED: DataScopes = {
  tenant: (_tenantId, work) => work(),
  platform: (work) => work(),
};
