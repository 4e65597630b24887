import type { Page, PageRequest } from '../shared/pagination';
import type { Role } from './rbac';
import type {
  Location,
  LocationPatch,
  SignInChallengeName,
  SignInStep,
  Tenant,
  TotpEnrolment,
  User,
  UserPatch,
} from './schemas';

export interface TenantListFilter {
  /** Only tenants in this status (e.g. `active` for the monthly billing run); every tenant otherwise. */
  readonly status?: Tenant['status'];
}

export interface TenantRepository {
  /** Platform-level: claims a globally unique slug for `tenantId`; ConflictError when it is taken. */
  claimSlug(slug: string, tenantId: string): Promise<void>;
  /** Platform-level: releases the slug if `tenantId` still holds it (a registration's compensation). */
  releaseSlug(slug: string, tenantId: string): Promise<void>;
  /** In the tenant's scope: writes the tenant and its owner user atomically. */
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

/**
 * Where a sign-in comes from, for Cognito threat protection (`ContextData`): the caller's
 * address and request, not the Lambda's. Headers carry no credentials (see `signInContextFrom`).
 */
export interface SignInContext {
  readonly ipAddress: string;
  readonly serverName: string;
  readonly serverPath: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The advanced-security script's device fingerprint, if the client sent one. */
  readonly encodedData?: string;
}

export interface ChallengeAnswer {
  readonly email: string;
  readonly challenge: SignInChallengeName;
  readonly session: string;
  /** For the MFA challenges. */
  readonly code?: string;
  /** For NEW_PASSWORD_REQUIRED. */
  readonly newPassword?: string;
}

/** Who can sign in: Cognito on AWS, the local issuer in local mode and tests. */
export interface IdentityProvider {
  /** ConflictError when the email is already registered. */
  createUser(identity: NewIdentity): Promise<void>;
  /**
   * UnauthorizedError for an unknown email or a wrong password (indistinguishably). A user with
   * MFA (or a temporary password) gets a challenge to answer with `respondToChallenge`.
   */
  authenticate(email: string, password: string, context?: SignInContext): Promise<SignInStep>;
  /**
   * UnauthorizedError for a wrong code or an expired, used or unknown session (sessions are
   * single use: after a wrong code the user signs in again). May ask for a further step.
   */
  respondToChallenge(answer: ChallengeAnswer, context?: SignInContext): Promise<SignInStep>;
  /**
   * Step-up: the password again (the API's tokens cannot act on the user's MFA settings), then a
   * new TOTP secret, pending until confirmed. ConflictError when TOTP is already on or the
   * environment offers no MFA.
   */
  beginTotpEnrolment(email: string, password: string, context?: SignInContext): Promise<TotpEnrolment>;
  /** The password and a code from the authenticator; from then on, sign-in asks for a code. */
  confirmTotpEnrolment(email: string, password: string, code: string, context?: SignInContext): Promise<void>;
  /** Whether sign-in asks this user for a TOTP code. */
  totpEnabled(email: string): Promise<boolean>;
  /**
   * The user turns their TOTP off, proving it with the password and a current code (Cognito checks
   * a code only inside a sign-in). UnauthorizedError for a wrong password, ValidationError on
   * `body.code` for a wrong code, ConflictError when TOTP is not on.
   */
  disableTotp(email: string, password: string, code: string, context?: SignInContext): Promise<void>;
  /**
   * An admin turns the user's TOTP off (a lost authenticator): sign-in asks for the password
   * alone, and the old secret never works again (enrolling anew issues a new one).
   */
  resetMfa(email: string): Promise<void>;
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
