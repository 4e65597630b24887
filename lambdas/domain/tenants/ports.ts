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

/**
 * Users. The tenant keeps a count of its active owners; every write that changes it (creating,
 * promoting, demoting, disabling, enabling or deleting an owner) moves the count in the same
 * transaction, under the condition that it stays at least 1, so concurrent changes can never
 * leave a tenant without an owner. `ownerDelta` is that change (-1, 0 or +1), worked out by the
 * domain from the record it read; the version condition makes sure that record is still current.
 */
export interface UserRepository {
  /** ConflictError if the counted owners would drop below one (never for a create). */
  create(user: User): Promise<void>;
  get(tenantId: string, userId: string): Promise<User | undefined>;
  /**
   * A strongly consistent read, for authorisation: a change committed before this request
   * began is always seen.
   */
  getCurrent(tenantId: string, userId: string): Promise<User | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<User>>;
  /** Active owners, counted from the user records (the tenant's counter must equal it). */
  countOwners(tenantId: string): Promise<number>;
  /** ConflictError (last owner) when `ownerDelta` < 0 would leave no active owner. */
  update(
    tenantId: string,
    userId: string,
    patch: UserPatch,
    expectedVersion: number,
    ownerDelta?: OwnerDelta,
  ): Promise<User>;
  delete(tenantId: string, userId: string, expectedVersion: number, ownerDelta?: OwnerDelta): Promise<void>;
}

export type OwnerDelta = -1 | 0 | 1;

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
  /**
   * The user can no longer sign in, and every session they hold is ended (Cognito:
   * AdminDisableUser + AdminUserGlobalSignOut). Tokens already issued are refused by the API's
   * per-request check of the user record.
   */
  disableUser(email: string): Promise<void>;
  enableUser(email: string): Promise<void>;
  deleteUser(email: string): Promise<void>;
}
