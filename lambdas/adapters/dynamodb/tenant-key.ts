/**
 * The tenant item's key, on its own so that the user repository (which keeps the tenant's owner
 * count) and the tenant repository (which owns the item) share it without importing each other.
 */
export const tenantKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'TENANT' });
