import type { Role } from '../tenants/rbac';

/** The verified caller: always taken from the token's claims, never from a request body. */
export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly email?: string;
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
