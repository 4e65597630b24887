import { userMay } from '../tenants/rbac';
import type { User } from '../tenants/schemas';
import { findAction } from './catalog';
import type { ActionDeps } from './deps';
import type { ActionRecord } from './model';

/**
 * The user an action was requested for, checked again when it is about to run: an approval or a
 * suggestion can wait for hours, and a user deleted, disabled or stripped of the permission
 * meanwhile must not have it run in their name. Read from their current record, not the token.
 */
export const REQUESTER_NOT_PERMITTED = 'REQUESTER_NOT_PERMITTED';

function isDisabled(user: User): boolean {
  return user.status === 'disabled';
}

/**
 * Why the requester may not have `record` run now, or undefined when they may. `known` is their
 * record when the caller has just read it (a confirmation by the requester themself).
 */
export async function requesterRefusal(
  deps: Pick<ActionDeps, 'users'>,
  record: ActionRecord,
  known?: User,
): Promise<{ code: string; message: string } | undefined> {
  const user = known ?? (await deps.users.get(record.tenantId, record.actorUserId));
  const who = `the user the action was requested for (${record.actorUserId})`;
  if (!user) return { code: REQUESTER_NOT_PERMITTED, message: `Not run: ${who} no longer exists` };
  if (isDisabled(user)) return { code: REQUESTER_NOT_PERMITTED, message: `Not run: ${who} is disabled` };
  const permission = findAction(record.action)?.permission;
  if (!permission || !userMay(user, permission, record.locationId)) {
    return {
      code: REQUESTER_NOT_PERMITTED,
      message: `Not run: ${who} no longer has ${permission}${
        record.locationId ? ` at location ${record.locationId}` : ''
      }`,
    };
  }
  return undefined;
}
