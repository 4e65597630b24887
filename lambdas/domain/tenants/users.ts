import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page, PageRequest } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type { IdentityProvider, LocationRepository, UserRepository } from './ports';
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
  if (patch.role !== undefined && patch.role !== user.role) {
    if (user.id === actor.userId) throw new ForbiddenError('You cannot change your own role');
    if (!canManageRole(actor.role, patch.role)) {
      throw new ForbiddenError(`A ${actor.role} cannot assign role ${patch.role}`);
    }
    if (user.role === 'owner' && (await deps.users.countOwners(actor.tenantId)) <= 1) {
      throw new ConflictError('A tenant must keep at least one owner');
    }
  }
  await assertLocationsExist(deps, actor.tenantId, patch);
  const updated = await deps.users.update(actor.tenantId, userId, patch, expectedVersion ?? user.version);
  if (patch.role !== undefined && patch.role !== user.role) {
    await deps.identity.setRole(user.email, patch.role);
  }
  return updated;
}

export async function deleteUser(deps: UserDeps, actor: Principal, userId: string): Promise<void> {
  const user = await getUser(deps, actor, userId);
  if (user.id === actor.userId) throw new ForbiddenError('You cannot delete yourself');
  if (!canManageRole(actor.role, user.role)) {
    throw new ForbiddenError(`A ${actor.role} cannot delete a user with role ${user.role}`);
  }
  if (user.role === 'owner' && (await deps.users.countOwners(actor.tenantId)) <= 1) {
    throw new ConflictError('A tenant must keep at least one owner');
  }
  await deps.users.delete(actor.tenantId, userId, user.version);
  await deps.identity.deleteUser(user.email);
}
