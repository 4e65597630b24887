import type { ActingUser, Role } from '../tenants/rbac';

/**
 * The verified caller. Who they are (user, tenant) comes from the token's claims, never from a
 * request body; what they may do (role, grants, locations) comes from their user record as read
 * at the start of this request, so a deleted, disabled or demoted user loses it at once.
 */
export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly email?: string;
  /**
   * The user's record as the HTTP pipeline read it for this request. Use cases that act for the
   * user (the decision engine) take it from here instead of reading it again; principals built
   * elsewhere (workflows, tests) leave it out and the record is read when needed.
   */
  readonly acting?: ActingUser;
}

/**
 * The identity-provider group of platform operators (a Cognito group in the tenants' user pool;
 * the local operator account in local mode). Its members belong to no tenant: they may call only
 * the `/v1/operator/...` routes (permission `operator`), and no tenant route.
 */
export const OPERATOR_GROUP = 'platform-operators';

/** A platform operator, from the token: no tenant, no tenant role. */
export interface OperatorPrincipal {
  readonly kind: 'operator';
  readonly userId: string;
  readonly email?: string;
}

/** How an operator appears as the actor of a ledger entry or an audit entry. */
export const operatorActor = (operator: OperatorPrincipal) => `operator:${operator.userId}`;
