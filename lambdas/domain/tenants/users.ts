import { ForbiddenError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page, PageRequest } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type { IdentityProvider, LocationRepository, OwnerDelta, UserRepository } from './ports';
import { canManageRole } from './rbac';
import type { User, UserCreateInput, UserPatch } from './schemas';

export interface UserDeps {
  readonly users: UserRepository;
  readonly locations: LocationRepository;
  readonly identity: IdentityProvider;
}

async function assertLocationsExist(
  deps: UserDeps,
  tenantId: string,
  patch: Pick<UserPatch, 'grants' | 'locationIds'>,
) {
  const ids = new Set([
    ...(patch.locationIds ?? []),
    ...(patch.grants ?? []).flatMap((g) => g.locationIds ?? []),
  ]);
  for (const id of ids) {
    if (!(await deps.locations.get(tenantId, id))) {
      throw ValidationError.forField('body.locationIds', `location ${id} does not exist`);
    }
  }
}

export async function createUser(deps: UserDeps, actor: Principal, input: UserCreateInput): Promise<User> {
  if (!canManageRole(actor.role, input.role)) {
    throw new ForbiddenError(`A ${actor.role} cannot create a user with role ${input.role}`);
  }
  await assertLocationsExist(deps, actor.tenantId, input);
  const now = new Date().toISOString();
  const user: User = {
    id: newId('user'),
    tenantId: actor.tenantId,
    email: input.email,
    name: input.name,
    role: input.role,
    status: 'active',
    grants: input.grants,
    locationIds: input.locationIds,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  // Identity first: it owns email uniqueness across the platform.
  await deps.identity.createUser({
    userId: user.id,
    tenantId: user.tenantId,
    email: user.email,
    password: input.password,
    role: user.role,
  });
  try {
    await deps.users.create(user);
  } catch (error) {
    await deps.identity.deleteUser(user.email);
    throw error;
  }
  return user;
}

export async function getUser(
  deps: Pick<UserDeps, 'users'>,
  actor: Principal,
  userId: string,
): Promise<User> {
  const user = await deps.users.get(actor.tenantId, userId);
  if (!user) throw new NotFoundError('User', userId);
  return user;
}

export function listUsers(
  deps: Pick<UserDeps, 'users'>,
  actor: Principal,
  page: PageRequest,
): Promise<Page<User>> {
  return deps.users.list(actor.tenantId, page);
}

/** Owners the last-owner rule counts: a disabled owner can do nothing, so does not keep a tenant owned. */
export const isActiveOwner = (user: Pick<User, 'role' | 'status'>): boolean =>
  user.role === 'owner' && user.status !== 'disabled';

function ownerDelta(before: Pick<User, 'role' | 'status'>, after: Pick<User, 'role' | 'status'>): OwnerDelta {
  return ((isActiveOwner(after) ? 1 : 0) - (isActiveOwner(before) ? 1 : 0)) as OwnerDelta;
}

export async function updateUser(
  deps: UserDeps,
  actor: Principal,
  userId: string,
  patch: UserPatch,
  expectedVersion?: number,
): Promise<User> {
  const user = await getUser(deps, actor, userId);
  if (!canManageRole(actor.role, user.role)) {
    throw new ForbiddenError(`A ${actor.role} cannot change a user with role ${user.role}`);
  }
  const roleChanges = patch.role !== undefined && patch.role !== user.role;
  if (roleChanges) {
    if (user.id === actor.userId) throw new ForbiddenError('You cannot change your own role');
    if (patch.role !== undefined && !canManageRole(actor.role, patch.role)) {
      throw new ForbiddenError(`A ${actor.role} cannot assign role ${patch.role}`);
    }
  }
  if (patch.status !== undefined && patch.status !== user.status && user.id === actor.userId) {
    throw new ForbiddenError('You cannot disable or enable yourself');
  }
  await assertLocationsExist(deps, actor.tenantId, patch);
  // The last-owner rule is enforced by the write itself (a counter moved in the same transaction).
  const delta = ownerDelta(user, { role: patch.role ?? user.role, status: patch.status ?? user.status });
  const updated = await deps.users.update(
    actor.tenantId,
    userId,
    patch,
    expectedVersion ?? user.version,
    delta,
  );
  if (roleChanges && patch.role !== undefined) await deps.identity.setRole(user.email, patch.role);
  // Sent whenever the status is given, not only when it changes: a retry repairs a failed call.
  if (patch.status === 'disabled') await deps.identity.disableUser(user.email);
  if (patch.status === 'active') await deps.identity.enableUser(user.email);
  return updated;
}

/**
 * Deletes the record first: from the next request on, the API refuses the user's tokens (the
 * pipeline reads the record per request). Then the identity provider: no new sign-ins, every
 * session ended, the identity removed.
 */
export async function deleteUser(deps: UserDeps, actor: Principal, userId: string): Promise<void> {
  const user = await getUser(deps, actor, userId);
  if (user.id === actor.userId) throw new ForbiddenError('You cannot delete yourself');
  if (!canManageRole(actor.role, user.role)) {
    throw new ForbiddenError(`A ${actor.role} cannot delete a user with role ${user.role}`);
  }
  await deps.users.delete(actor.tenantId, userId, user.version, isActiveOwner(user) ? -1 : 0);
  await deps.identity.disableUser(user.email);
  await deps.identity.deleteUser(user.email);
}
