import type { AgentRepository } from '../agents/ports';
import { ConflictError, NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page, PageRequest } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type { LocationRepository, UserRepository } from './ports';
import type { Location, LocationCreateInput, LocationPatch } from './schemas';

export interface LocationDeps {
  readonly locations: LocationRepository;
}

export async function createLocation(deps: LocationDeps, actor: Principal, input: LocationCreateInput) {
  const now = new Date().toISOString();
  const location: Location = {
    id: newId('location'),
    tenantId: actor.tenantId,
    ...input,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await deps.locations.create(location);
  return location;
}

export async function getLocation(
  deps: LocationDeps,
  actor: Principal,
  locationId: string,
): Promise<Location> {
  const location = await deps.locations.get(actor.tenantId, locationId);
  if (!location) throw new NotFoundError('Location', locationId);
  return location;
}

export function listLocations(
  deps: LocationDeps,
  actor: Principal,
  page: PageRequest,
): Promise<Page<Location>> {
  return deps.locations.list(actor.tenantId, page);
}

export async function updateLocation(
  deps: LocationDeps,
  actor: Principal,
  locationId: string,
  patch: LocationPatch,
  expectedVersion?: number,
): Promise<Location> {
  const location = await getLocation(deps, actor, locationId);
  return deps.locations.update(actor.tenantId, locationId, patch, expectedVersion ?? location.version);
}

/** What deleting a location must look at: who refers to it. */
export interface LocationDeletionDeps extends LocationDeps {
  readonly users: Pick<UserRepository, 'list'>;
  readonly agents: Pick<AgentRepository, 'list'>;
}

/** How many referrers of each kind a refusal names (the count is always complete). */
const NAMED_REFERRERS = 20;

/**
 * Deletes a location nobody uses. Users limited to it (or granted a permission there) and agents
 * placed at it would otherwise keep a dangling reference that later fails a request they never
 * made (a clone, a rollback, an action checked at that location), so the deletion is refused with
 * 409 naming them: move or detach them first, then delete. A user or agent attached in the instant
 * between this check and the delete keeps a reference to a missing location; the places that copy
 * a reference without being asked to (clone) drop one that no longer resolves.
 */
export async function deleteLocation(
  deps: LocationDeletionDeps,
  actor: Principal,
  locationId: string,
): Promise<void> {
  await getLocation(deps, actor, locationId);
  const [users, agents] = await Promise.all([
    usersAt(deps, actor.tenantId, locationId),
    agentsAt(deps, actor.tenantId, locationId),
  ]);
  if (users.length > 0 || agents.length > 0) {
    const named = [
      ...(users.length > 0 ? [`users ${users.slice(0, NAMED_REFERRERS).join(', ')}`] : []),
      ...(agents.length > 0 ? [`agents ${agents.slice(0, NAMED_REFERRERS).join(', ')}`] : []),
    ];
    throw new ConflictError(
      `Location ${locationId} is in use by ${named.join(' and ')}: move or detach them first (users: locationIds and grants; agents: locationId)`,
      {
        users: users.slice(0, NAMED_REFERRERS),
        agents: agents.slice(0, NAMED_REFERRERS),
        userCount: users.length,
        agentCount: agents.length,
      },
    );
  }
  await deps.locations.delete(actor.tenantId, locationId);
}

async function usersAt(deps: LocationDeletionDeps, tenantId: string, locationId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.users.list(tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const user of page.items) {
      const refers =
        user.locationIds.includes(locationId) ||
        user.grants.some((grant) => grant.locationIds?.includes(locationId) === true);
      if (refers) found.push(user.id);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

async function agentsAt(deps: LocationDeletionDeps, tenantId: string, locationId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.agents.list(tenantId, {
      limit: 100,
      sort: 'createdAt',
      order: 'asc',
      ...(cursor ? { cursor } : {}),
    });
    for (const agent of page.items) if (agent.locationId === locationId) found.push(agent.id);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}
