import {
  addTokensBody,
  addTokensResponse,
  balanceResponse,
  billingSettingsBody,
  costsResponse,
  usageQuery,
  usageResponse,
} from '../../domain/billing/schemas';
import type { RouteGroup } from '../route-spec';

export const BILLING_ROUTES = {
  'GET /v1/tokens/balance': {
    lambda: 'billing',
    permission: 'billing:read',
    summary: "The tenant's token balance: available, held by reservations, low-balance threshold, status",
    status: 200,
    response: balanceResponse,
  },
  'PUT /v1/tokens/settings': {
    lambda: 'billing',
    permission: 'billing:write',
    summary: 'Set the balance under which a balance.low event is published (0: never)',
    body: billingSettingsBody,
    status: 200,
    response: balanceResponse,
  },
  'GET /v1/tokens/costs': {
    lambda: 'billing',
    // Prices, not tenant data: everyone who may use the agents may know what they cost.
    permission: 'tenant:read',
    summary: 'The token cost of each billable operation in this environment',
    status: 200,
    response: costsResponse,
  },
  'GET /v1/tokens/usage': {
    lambda: 'billing',
    permission: 'billing:read',
    summary:
      'Ledger entries of a date range (UTC days, at most 366), newest first with a cursor, and totals over the whole range by agent, action and day',
    query: usageQuery,
    status: 200,
    response: usageResponse,
  },
  'POST /v1/tokens/add': {
    lambda: 'billing',
    permission: 'billing:write',
    summary:
      'Add tokens (a purchase or a grant). Idempotency-Key is required: the same key again returns the first result and adds nothing. Reactivates a suspended tenant once its balance covers the monthly fee.',
    body: addTokensBody,
    status: 201,
    response: addTokensResponse,
    idempotencyKey: 'required',
    errors: {
      503: 'The token balance is busy with other writers; nothing was done, retry with the same key',
    },
  },
} as const satisfies RouteGroup<'billing'>;
