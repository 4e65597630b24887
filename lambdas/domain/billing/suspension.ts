import { domainEvent } from '../events/events';
import { ConflictError, NotFoundError } from '../shared/errors';
import { periodOf } from './calendar';
import { BILLING_ACTOR, type BillingDeps, label, period, publish } from './ledger';
import { chargeMonthlyFee } from './monthly-fee';
import type { SuspendResult } from './ports';

/** Suspension of a tenant that cannot pay, and reactivation once it can. */

/**
 * Suspends a tenant: status `suspended` (costed operations then get 402 TENANT_SUSPENDED), its
 * active agents paused (remembered, so a reactivation resumes exactly those), `tenant.suspended`
 * published once. Idempotent: a repeat finishes what a crash left undone and changes nothing else.
 *
 * With `period` (the billing run's case) the suspension is for that period's unpaid fee, and it
 * happens only while the balance cannot pay it: if a top-up landed between the run's charge and
 * this call, the fee is charged now instead and the tenant stays active. The status change
 * carries a condition on the balance, so the top-up and the suspension cannot both miss it.
 */
export async function suspendTenant(
  deps: BillingDeps,
  tenantId: string,
  reason: string,
  billingPeriod?: string,
): Promise<void> {
  label('reason', reason);
  const feePeriod = billingPeriod === undefined ? undefined : period(billingPeriod);
  let result: SuspendResult = 'can_pay';
  for (let attempt = 0; attempt < 3 && result === 'can_pay'; attempt++) {
    if (feePeriod !== undefined) {
      const fee = await chargeMonthlyFee(deps, tenantId, feePeriod, BILLING_ACTOR);
      if (fee.outcome !== 'insufficient') return;
    }
    result = await deps.billing.suspend(
      {
        tenantId,
        reason,
        ...(feePeriod === undefined ? {} : { period: feePeriod }),
        suspendedAt: deps.now().toISOString(),
        pausedAgentIds: [],
      },
      feePeriod === undefined ? {} : { unlessAvailableAtLeast: deps.costs.monthlyFee },
    );
  }
  if (result === 'can_pay') {
    // The balance moved across the fee three times in a row: let the caller (the run) retry.
    throw new ConflictError(`Tenant ${tenantId}'s balance keeps changing; suspension not decided`);
  }
  await pauseActiveAgents(deps, tenantId);
  const suspension = await deps.billing.getSuspension(tenantId);
  if (suspension && suspension.notifiedAt === undefined) {
    const sent = await publish(deps, [
      domainEvent(
        'tenant.suspended',
        {
          tenantId,
          reason: suspension.reason,
          ...(suspension.period === undefined ? {} : { period: suspension.period }),
        },
        deps.now(),
      ),
    ]);
    if (sent) await deps.billing.markSuspensionNotified(tenantId, deps.now().toISOString());
  }
}

const AGENT_PAGE = 100;

async function pauseActiveAgents(deps: BillingDeps, tenantId: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await deps.agents.list(tenantId, {
      limit: AGENT_PAGE,
      sort: 'createdAt',
      order: 'asc',
      status: 'active',
      ...(cursor === undefined ? {} : { cursor }),
    });
    const ids = page.items.map((agent) => agent.id);
    if (ids.length > 0) {
      // Remembered first: an agent paused but not remembered would never be resumed.
      if (!(await deps.billing.notePausedAgents(tenantId, ids))) return;
      await Promise.all(ids.map((id) => moveAgent(deps, tenantId, id, 'active', 'paused')));
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** A refused move (someone stopped or deleted the agent meanwhile) is theirs to keep. */
async function moveAgent(
  deps: BillingDeps,
  tenantId: string,
  agentId: string,
  from: 'active' | 'paused',
  to: 'active' | 'paused',
): Promise<void> {
  try {
    await deps.agents.transition(tenantId, agentId, [from], to, BILLING_ACTOR);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * Lifts a suspension once the balance covers the monthly fee: charges the current period's fee
 * (once per period: nothing if the run already charged it), resumes the agents the suspension
 * paused (not those their users paused), sets the tenant active and publishes
 * `tenant.reactivated`. Months spent suspended are not billed. Safe to repeat at any point.
 */
export async function reactivateIfPaid(deps: BillingDeps, tenantId: string, actor: string): Promise<boolean> {
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'suspended') return false;
  const fee = await chargeMonthlyFee(deps, tenantId, periodOf(deps.now()), actor);
  if (fee.outcome === 'insufficient') return false;
  const suspension = await deps.billing.getSuspension(tenantId);
  await Promise.all(
    (suspension?.pausedAgentIds ?? []).map((id) => moveAgent(deps, tenantId, id, 'paused', 'active')),
  );
  if (!(await deps.billing.reactivate(tenantId, deps.now().toISOString()))) return false;
  const balance = await deps.billing.getBalance(tenantId);
  await publish(deps, [
    domainEvent('tenant.reactivated', { tenantId, available: balance?.available ?? 0 }, deps.now()),
  ]);
  return true;
}
