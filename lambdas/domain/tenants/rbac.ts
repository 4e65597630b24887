import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
import { boundedArray } from '../shared/zod';
import { ROLES, type Role } from './role-permissions';

// Roles and their API permissions live in a module free of zod, so the console reads them too.
export { API_PERMISSIONS, type ApiPermission, ROLES, type Role, roleAllows } from './role-permissions';

/**
 * Roles and permissions, and the single function that decides. Route permissions guard the
 * API; action permissions (`sms:send`, ...) are granted per user and, optionally, limited to
 * locations — the agent may only do what its acting user may do.
 */
export const roleSchema = () => z.enum(ROLES);

export const ACTION_PERMISSIONS = [
  'email:send',
  'sms:send',
  'whatsapp:send',
  'call:make',
  'resource:read',
  'resource:write',
  'booking:create',
  'payment:process',
  'coordinator:notify',
  'approval:decide',
] as const;
export const actionPermissionSchema = () => z.enum(ACTION_PERMISSIONS);
export type ActionPermission = (typeof ACTION_PERMISSIONS)[number];

/** Action permissions every user of a role holds everywhere, before any explicit grant. */
const ROLE_ACTION_PERMISSIONS: Record<Role, ReadonlySet<ActionPermission>> = {
  owner: new Set(ACTION_PERMISSIONS),
  admin: new Set(ACTION_PERMISSIONS),
  coordinator: new Set(['coordinator:notify', 'approval:decide', 'resource:read']),
  member: new Set(['resource:read']),
};

/** Roles a role may assign, and so may create, change or delete users of. */
const MANAGEABLE_ROLES: Record<Role, ReadonlySet<Role>> = {
  owner: new Set(ROLES),
  admin: new Set(['admin', 'coordinator', 'member']),
  coordinator: new Set(),
  member: new Set(),
};

export const permissionGrantSchema = () =>
  z.strictObject({
    permission: actionPermissionSchema(),
    /** Limits the grant to these locations; absent means every location. */
    locationIds: z.optional(boundedArray(idSchema('location'), 50, 1)),
  });
export type PermissionGrant = z.infer<ReturnType<typeof permissionGrantSchema>>;

export function canManageRole(actor: Role, target: Role): boolean {
  return MANAGEABLE_ROLES[actor].has(target);
}

export interface ActingUser {
  readonly role: Role;
  readonly grants: readonly PermissionGrant[];
  /** Locations the user belongs to; empty means the whole tenant. */
  readonly locationIds: readonly string[];
}

/** May `user` perform `permission`, at `locationId` when the action is tied to a location? */
export function userMay(user: ActingUser, permission: ActionPermission, locationId?: string): boolean {
  if (locationId !== undefined && user.locationIds.length > 0 && !user.locationIds.includes(locationId)) {
    return false;
  }
  if (ROLE_ACTION_PERMISSIONS[user.role].has(permission)) return true;
  return user.grants.some(
    (grant) =>
      grant.permission === permission &&
      (grant.locationIds === undefined ||
        (locationId !== undefined && grant.locationIds.includes(locationId))),
  );
}
