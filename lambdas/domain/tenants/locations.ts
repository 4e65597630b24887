import { NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page, PageRequest } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type { LocationRepository } from './ports';
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

export async function deleteLocation(
  deps: LocationDeps,
  actor: Principal,
  locationId: string,
): Promise<void> {
  await getLocation(deps, actor, locationId);
  await deps.locations.delete(actor.tenantId, locationId);
}
