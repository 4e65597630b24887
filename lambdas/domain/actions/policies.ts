import { ConflictError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import type { ActionDeps } from './deps';
import { appendAudit } from './execute';
import type { Policy, PolicyRule } from './model';
import { DEFAULT_POLICY } from './policy';

/** The tenant's decision policy as the API shows it: the defaults until one is set (version 0). */
export async function getPolicy(deps: Pick<ActionDeps, 'policies'>, principal: Principal): Promise<Policy> {
  return (
    (await deps.policies.get(principal.tenantId)) ?? {
      tenantId: principal.tenantId,
      rules: [],
      maxActionsPerTurn: DEFAULT_POLICY.maxActionsPerTurn,
      approvalTimeoutSeconds: DEFAULT_POLICY.approvalTimeoutSeconds,
      version: 0,
      updatedAt: new Date(0).toISOString(),
      updatedBy: 'system:defaults',
    }
  );
}

export interface PolicyInput {
  readonly rules: readonly PolicyRule[];
  readonly maxActionsPerTurn?: number;
  readonly approvalTimeoutSeconds?: number;
}

/**
 * Replaces the policy. With `If-Match` the write is conditional on that version; without it, on
 * the version just read — either way two admins writing at once cannot silently undo each other.
 */
export async function putPolicy(
  deps: ActionDeps,
  principal: Principal,
  input: PolicyInput,
  expectedVersion: number | undefined,
): Promise<Policy> {
  const current = await getPolicy(deps, principal);
  if (expectedVersion !== undefined && expectedVersion !== current.version) {
    throw new ConflictError(`The policy is at version ${current.version}, not ${expectedVersion}`, {
      version: current.version,
    });
  }
  await checkRuleAgents(deps, principal, input.rules, current.rules);
  const at = deps.now().toISOString();
  const next: Policy = {
    tenantId: principal.tenantId,
    rules: input.rules,
    maxActionsPerTurn: input.maxActionsPerTurn ?? DEFAULT_POLICY.maxActionsPerTurn,
    approvalTimeoutSeconds: input.approvalTimeoutSeconds ?? DEFAULT_POLICY.approvalTimeoutSeconds,
    version: current.version + 1,
    updatedAt: at,
    updatedBy: principal.userId,
  };
  await deps.policies.put(next);
  await appendAudit(deps, [
    {
      id: newId('audit'),
      tenantId: principal.tenantId,
      type: 'policy.updated',
      at,
      actor: { kind: 'user', id: principal.userId },
      outcome: `version ${next.version}`,
      details: {
        rules: next.rules.length,
        maxActionsPerTurn: next.maxActionsPerTurn,
        approvalTimeoutSeconds: next.approvalTimeoutSeconds,
      },
    },
  ]);
  return next;
}

/**
 * A rule scoped to an agent must name one of the tenant's agents. Only agents the current policy
 * does not already name are looked up (one read each, at most one per rule): a rule kept for an
 * agent deleted since stays savable, and matches nothing, as a deleted agent takes no actions.
 */
async function checkRuleAgents(
  deps: Pick<ActionDeps, 'agents'>,
  principal: Principal,
  rules: readonly PolicyRule[],
  saved: readonly PolicyRule[],
): Promise<void> {
  const known = new Set(saved.map((rule) => rule.agentId));
  const fresh = [...new Set(rules.map((rule) => rule.agentId))].filter(
    (id): id is string => id !== undefined && !known.has(id),
  );
  const found = await Promise.all(fresh.map((id) => deps.agents.get(principal.tenantId, id)));
  const missing = new Set(fresh.filter((_, i) => found[i] === undefined));
  const index = rules.findIndex((rule) => rule.agentId !== undefined && missing.has(rule.agentId));
  if (index >= 0) {
    throw ValidationError.forField(
      `body.rules.${index}.agentId`,
      `no agent ${rules[index]?.agentId} in this tenant`,
    );
  }
}
