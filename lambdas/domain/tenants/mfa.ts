import type { AuditLog } from '../audit/model';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import type { IdentityProvider, SignInContext, UserRepository } from './ports';
import { canManageRole } from './rbac';

export interface MfaDeps {
  readonly users: Pick<UserRepository, 'get'>;
  readonly identity: IdentityProvider;
  readonly audit: Pick<AuditLog, 'append'>;
}

export const TURN_OFF_OWN_TOTP_ROUTE = 'DELETE /v1/auth/mfa/totp';

/**
 * The signed-in user turns their own TOTP off (to remove or replace the authenticator), proving
 * it with the password and a current code. A wrong password is a 400 on `body.password`, not a
 * 401: the caller's token is fine, and a 401 would sign the console out.
 */
export async function turnOffOwnTotp(
  deps: MfaDeps,
  actor: Principal,
  input: { password: string; code: string },
  context: SignInContext,
): Promise<void> {
  const user = await deps.users.get(actor.tenantId, actor.userId);
  if (!user) throw new NotFoundError('User', actor.userId);
  try {
    await deps.identity.disableTotp(user.email, input.password, input.code, context);
  } catch (error) {
    if (error instanceof UnauthorizedError && /password/.test(error.message)) {
      throw ValidationError.forField('body.password', 'is incorrect');
    }
    throw error;
  }
  // Not an admin permission, so the HTTP pipeline does not record it: a security change is.
  await deps.audit.append([
    {
      id: newId('audit'),
      tenantId: actor.tenantId,
      type: 'admin.change',
      at: new Date().toISOString(),
      actor: { kind: 'user', id: actor.userId },
      outcome: '204',
      details: { route: TURN_OFF_OWN_TOTP_ROUTE, id: actor.userId },
    },
  ]);
}

/**
 * An owner or admin turns off another user's MFA in their tenant (a lost phone): the user signs in
 * with the password and can enrol again. Another tenant's user is not found; a role the actor may
 * not manage (an admin and an owner) is forbidden, as for every other change to that user.
 */
export async function resetUserMfa(deps: MfaDeps, actor: Principal, userId: string): Promise<void> {
  const user = await deps.users.get(actor.tenantId, userId);
  if (!user) throw new NotFoundError('User', userId);
  if (user.id !== actor.userId && !canManageRole(actor.role, user.role)) {
    throw new ForbiddenError(`A ${actor.role} cannot reset the MFA of a user with role ${user.role}`);
  }
  await deps.identity.resetMfa(user.email);
}
