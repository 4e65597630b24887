import type { Role } from '../tenants/rbac';

/** The verified caller: always taken from the token's claims, never from a request body. */
export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly email?: string;
}
