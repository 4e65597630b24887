import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoBillingRepository } from '../adapters/dynamodb/billing-repository';
import type { TableClient } from '../adapters/dynamodb/document-client';
import { DynamoPurchaseRepository } from '../adapters/dynamodb/purchase-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { EventBridgePublisher } from '../adapters/events/eventbridge-publisher';
import { InProcessEventBus } from '../adapters/events/in-process-bus';
import type { BillingDeps } from '../domain/billing/billing';
import { parseCostTable } from '../domain/billing/costs';
import type { PurchaseDeps } from '../domain/billing/purchases';
import type { EventPublisher } from '../domain/events/events';
import { logger } from '../observability';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { type PlatformPayments, platformPayments } from './payments';
import { tableClient } from './table';
import { DATA_SCOPES } from './tenant-scope';

/**
 * Billing's dependencies, built once per process from the runtime configuration, on first use
 * (so importing this module costs nothing until a handler bills): the table, the event bus, the
 * cost table. The billing HTTP Lambda, the housekeeping Lambda and the billing run's step Lambdas
 * all use this one composition.
 *   EVENT_BUS_NAME  set (AWS): events go to that EventBridge bus; unset (local mode, tests): to
 *                   `localEventBus`, one in-process bus per process.
 *   TOKEN_COSTS     the cost table as JSON (the CDK passes the environment's `tokenCosts`);
 *                   unset: the defaults (WhatsApp 10, SMS 1, email 1, call 50, LLM call 1, fee 200).
 */
export const localEventBus = new InProcessEventBus();

let deps: BillingDeps | undefined;
let purchases: { deps: PurchaseDeps; payments: PlatformPayments } | undefined;

/**
 * Billing's dependencies plus what purchases need: the purchase records and the platform's payment
 * account (see composition/payments.ts for its configuration). `deps.payments` is a port that
 * refuses when no provider is configured; `payments.provider` says which one it is.
 */
export function purchaseDeps(client?: TableClient): {
  deps: PurchaseDeps;
  payments: PlatformPayments;
} {
  if (!purchases) {
    const billing = billingDeps(client);
    const config = loadRuntimeConfig();
    const payments = platformPayments();
    const shared = client ?? tableClient(config);
    purchases = {
      deps: {
        ...billing,
        purchases: new DynamoPurchaseRepository(shared, config.TABLE_NAME),
        ...(payments.port ? { payments: payments.port } : {}),
        tokenPrice: payments.tokenPrice,
        returnOrigins: payments.returnOrigins,
        ...(payments.hostedConsoleOrigin ? { hostedConsoleOrigin: payments.hostedConsoleOrigin } : {}),
      },
      payments,
    };
  }
  return purchases;
}

/** `client`: a handler's own document client, so one process does not build two at cold start. */
export function billingDeps(client?: TableClient): BillingDeps {
  deps ??= build(client);
  return deps;
}

function build(shared: TableClient | undefined): BillingDeps {
  const config = loadRuntimeConfig();
  // Only billing's Lambdas are given these. An empty bus name counts as unset; the cost table is
  // checked by its own zod schema.
  const vars = parseEnvironment(environmentSlice(ENV.EVENT_BUS_NAME, ENV.TOKEN_COSTS), 'billing');
  const busName = vars.EVENT_BUS_NAME?.trim() || undefined;
  const client = shared ?? tableClient(config);
  const events: EventPublisher = busName
    ? new EventBridgePublisher(new EventBridgeClient({ region: config.AWS_REGION }), busName)
    : localEventBus;
  return {
    billing: new DynamoBillingRepository(client, config.TABLE_NAME),
    tenants: new DynamoTenantRepository(client, config.TABLE_NAME),
    agents: new DynamoAgentRepository(client, config.TABLE_NAME),
    events,
    costs: parseCostTable(vars.TOKEN_COSTS),
    now: () => new Date(),
    log: { error: (message, extra) => logger.error(message, extra) },
    scopes: DATA_SCOPES,
  };
}
