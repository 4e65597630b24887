import type { Page, PageRequest } from '../shared/pagination';
import type { Role } from './rbac';
import type { AuthToken, Location, LocationPatch, Tenant, User, UserPatch } from './schemas';

export interface TenantListFilter {
  /** Only tenants in this status (e.g. `active` for the monthly billing run); every tenant otherwise. */
  readonly status?: Tenant['status'];
}

export interface TenantRepository {
  /** Writes tenant, slug claim and owner user atomically; ConflictError when the slug is taken. */
  createWithOwner(tenant: Tenant, owner: User): Promise<void>;
  /** Undoes `createWithOwner` (used when the identity provider refuses the owner). */
  deleteRegistration(tenant: Tenant, ownerId: string): Promise<void>;
  get(tenantId: string): Promise<Tenant | undefined>;
  rename(tenantId: string, name: string, expectedVersion: number): Promise<Tenant>;
  /**
   * Tenant ids in creation order, a page at a time, across all tenants: platform-level code only
   * (the monthly billing run), never an HTTP route. A Query on the tenant listing, never a Scan.
   */
  listTenantIds(page: PageRequest, filter?: TenantListFilter): Promise<Page<string>>;
}

export interface UserRepository {
  create(user: User): Promise<void>;
  get(tenantId: string, userId: string): Promise<User | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<User>>;
  countOwners(tenantId: string): Promise<number>;
  update(tenantId: string, userId: string, patch: UserPatch, expectedVersion: number): Promise<User>;
  delete(tenantId: string, userId: string, expectedVersion: number): Promise<void>;
}

export interface LocationRepository {
  create(location: Location): Promise<void>;
  get(tenantId: string, locationId: string): Promise<Location | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<Location>>;
  update(
    tenantId: string,
    locationId: string,
    patch: LocationPatch,
    expectedVersion: number,
  ): Promise<Location>;
  delete(tenantId: string, locationId: string): Promise<void>;
}

export interface NewIdentity {
  readonly userId: string;
  readonly tenantId: string;
  readonly email: string;
  readonly password: string;
  readonly role: Role;
}

/** Who can sign in: Cognito on AWS, the local issuer in local mode and tests. */
export interface IdentityProvider {
  /** ConflictError when the email is already registered. */
  createUser(identity: NewIdentity): Promise<void>;
  /** UnauthorizedError for an unknown email or a wrong password (indistinguishably). */
  authenticate(email: string, password: string): Promise<AuthToken>;
  setRole(email: string, role: Role): Promise<void>;
  deleteUser(email: string): Promise<void>;
}
