import type { Principal } from '../shared/principal';
import type { UserRepository } from './ports';
import type { ActingUser } from './rbac';

/**
 * The user a use case acts for: the record the HTTP pipeline read for this request when there is
 * one (so a request reads it once), else read now. Undefined when the user no longer exists.
 */
export async function actingUserOf(
  users: Pick<UserRepository, 'get'>,
  principal: Pick<Principal, 'tenantId' | 'userId' | 'acting'>,
): Promise<(ActingUser & { readonly id: string }) | undefined> {
  if (principal.acting) return { id: principal.userId, ...principal.acting };
  return users.get(principal.tenantId, principal.userId);
}
