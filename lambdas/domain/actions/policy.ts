import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
import { boundedArray, integer, lazySchema, storableNumber, text } from '../shared/zod';
import { findAction } from './catalog';
import type { ActionDefinition } from './definition';
import {
  ACTION_CATEGORIES,
  ACTION_NAMES,
  DECISION_LEVELS,
  type Decision,
  type Policy,
  type PolicyCondition,
  type PolicyLevel,
  type PolicyRule,
} from './model';

/**
 * The tenant's decision policy (DESIGN §3.6): rules that raise or lower an action's default
 * decision level, e.g. "payments above 500 need approval", "never delete resources", and the
 * per-turn and approval limits. `resolveLevel` is the one place that reads the rules.
 */

/** What applies until the tenant sets a policy, and to the fields a `PUT` leaves out. */
export const DEFAULT_POLICY: Pick<Policy, 'rules' | 'maxActionsPerTurn' | 'approvalTimeoutSeconds'> = {
  rules: [],
  // A turn normally does one or two things; three leaves room and stops a model talked into a spree.
  maxActionsPerTurn: 3,
  approvalTimeoutSeconds: 3600,
};

export const POLICY_LEVELS = [...DECISION_LEVELS, 'denied'] as const satisfies readonly PolicyLevel[];
export const MAX_POLICY_RULES = 50;

const BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;

export const policyConditionSchema = lazySchema(() =>
  z
    .strictObject({
      /** A numeric parameter of the action, e.g. `amount`. */
      param: z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a parameter name')),
      gt: z.optional(storableNumber()),
      gte: z.optional(storableNumber()),
      lt: z.optional(storableNumber()),
      lte: z.optional(storableNumber()),
    })
    .check(
      z.refine((when) => BOUNDS.some((bound) => when[bound] !== undefined), {
        message: 'must set at least one of gt, gte, lt, lte',
      }),
      z.refine(
        (when) => {
          const lower = Math.max(when.gt ?? -Infinity, when.gte ?? -Infinity);
          const upper = Math.min(when.lt ?? Infinity, when.lte ?? Infinity);
          const open = when.gt === lower || when.lt === upper;
          return open ? lower < upper : lower <= upper;
        },
        { message: 'the bounds leave no value that could match' },
      ),
    ),
);

export const policyRuleSchema = lazySchema(() =>
  z
    .strictObject({
      action: z.optional(z.enum(ACTION_NAMES)),
      category: z.optional(z.enum(ACTION_CATEGORIES)),
      when: z.optional(policyConditionSchema()),
      level: z.enum(POLICY_LEVELS),
      description: z.optional(text(1, 500)),
      /** Scopes the rule to one agent of the tenant (it must exist when the policy is saved). */
      agentId: z.optional(idSchema('agent')),
    })
    .check(
      z.refine(
        (rule) =>
          rule.action === undefined ||
          rule.category === undefined ||
          findAction(rule.action)?.category === rule.category,
        {
          path: ['category'],
          error: (issue) => {
            const rule = issue.input as { action?: string; category?: string } | undefined;
            const category = rule?.action ? findAction(rule.action)?.category : undefined;
            return `${rule?.action} is in category ${category}, not ${rule?.category}: name one or the other`;
          },
        },
      ),
    ),
);

/** `PUT /v1/policies`: the whole policy; omitted limits take their defaults. */
export const policyBody = lazySchema(() =>
  z.strictObject({
    rules: z._default(boundedArray(policyRuleSchema(), MAX_POLICY_RULES), []),
    maxActionsPerTurn: z._default(integer(1, 20), DEFAULT_POLICY.maxActionsPerTurn),
    // Up to 23 hours: an approval past that is stale, and its tokens are held all the while.
    approvalTimeoutSeconds: z._default(integer(60, 82_800), DEFAULT_POLICY.approvalTimeoutSeconds),
  }),
);
export type PolicyBody = z.output<ReturnType<typeof policyBody>>;

// ── Resolution ────────────────────────────────────────────────────────────────────────────────

/** Higher is stricter; `denied` is the strictest answer of all. */
const STRICTNESS: Readonly<Record<PolicyLevel, number>> = {
  automatic: 0,
  suggestion: 1,
  consultation: 2,
  approval: 3,
  denied: 4,
};

/**
 * How specific a rule is: one action beats a category beats every action; within each, a rule
 * with a `when` beats one without (it was written for exactly this case); and last, a rule scoped
 * to the agent beats a tenant-wide one saying as much. The agent scope only breaks that tie: a
 * broad rule for one agent ("agent A: payments automatic") never overrides a narrower tenant-wide
 * one ("take_payment above 500 needs approval").
 */
function specificity(rule: PolicyRule): number {
  const scope = rule.action !== undefined ? 2 : rule.category !== undefined ? 1 : 0;
  return (scope * 2 + (rule.when !== undefined ? 1 : 0)) * 2 + (rule.agentId !== undefined ? 1 : 0);
}

/** The bounds a number satisfies, in words ("> 500"), or undefined when it misses one. */
function matchCondition(when: PolicyCondition, params: Record<string, unknown>): string[] | undefined {
  const value = params[when.param];
  // Only a number can be compared: an absent or non-numeric parameter never matches.
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const checks: [number | undefined, (bound: number) => boolean, string][] = [
    [when.gt, (bound) => value > bound, '>'],
    [when.gte, (bound) => value >= bound, '>='],
    [when.lt, (bound) => value < bound, '<'],
    [when.lte, (bound) => value <= bound, '<='],
  ];
  const words: string[] = [];
  for (const [bound, holds, symbol] of checks) {
    if (bound === undefined) continue;
    if (!holds(bound)) return undefined;
    words.push(`${symbol} ${bound}`);
  }
  return words;
}

function ruleMatches(
  rule: PolicyRule,
  action: ActionDefinition,
  params: Record<string, unknown>,
  agentId: string | undefined,
): { condition?: string } | undefined {
  if (rule.agentId !== undefined && rule.agentId !== agentId) return undefined;
  if (rule.action !== undefined && rule.action !== action.name) return undefined;
  if (rule.category !== undefined && rule.category !== action.category) return undefined;
  if (rule.when === undefined) return {};
  const bounds = matchCondition(rule.when, params);
  if (!bounds) return undefined;
  return { condition: `${rule.when.param} ${String(params[rule.when.param])} ${bounds.join(' and ')}` };
}

function consequence(level: PolicyLevel): string {
  switch (level) {
    case 'denied':
      return 'denies it';
    case 'automatic':
      return 'lets it run automatically';
    case 'suggestion':
      return "makes it a suggestion for the user's confirmation";
    case 'consultation':
      return 'requires consulting a coordinator';
    case 'approval':
      return "requires a coordinator's approval";
  }
}

/**
 * The decision level of `action` with these (validated) parameters, proposed by agent `agentId`,
 * under the tenant's policy. Rules scoped to another agent are passed over. The most specific
 * matching rule decides (action + when > action > category + when > category > when alone >
 * every action, the agent's own rule before a tenant-wide one of the same kind); among equally
 * specific ones the strictest; no match: the action's default. `ruleIndex` is the rule's 0-based
 * position in `policy.rules`; the reason counts from 1, as people do ("rule 2" is `rules[1]`).
 */
export function resolveLevel(
  action: ActionDefinition,
  params: Record<string, unknown>,
  policy: Pick<Policy, 'rules'> | undefined,
  agentId: string | undefined,
): Decision {
  let best: { index: number; rule: PolicyRule; condition?: string; rank: number } | undefined;
  let tied = 1;
  for (const [index, rule] of (policy?.rules ?? []).entries()) {
    const match = ruleMatches(rule, action, params, agentId);
    if (!match) continue;
    const rank = specificity(rule);
    const candidate = { index, rule, rank, ...match };
    if (!best || rank > best.rank) {
      best = candidate;
      tied = 1;
    } else if (rank === best.rank) {
      tied += 1;
      // A later rule only wins a tie by being stricter: order never loosens a policy.
      if (STRICTNESS[rule.level] > STRICTNESS[best.rule.level]) best = candidate;
    }
  }
  if (!best) {
    return {
      level: action.defaultLevel,
      reason: `${action.name}: no policy rule applies, so its default level ${action.defaultLevel} does`,
    };
  }
  const { rule, index, condition } = best;
  const subject =
    rule.action !== undefined
      ? action.name
      : rule.category !== undefined
        ? `${action.name} (category ${rule.category})`
        : action.name;
  const label = `rule ${index + 1}${rule.description ? ` ("${rule.description}")` : ''}${rule.agentId ? ` for agent ${rule.agentId}` : ''}`;
  const scope =
    rule.action === undefined && rule.category === undefined && condition === undefined
      ? ' for every action'
      : '';
  const tie = tied > 1 ? ` (the strictest of ${tied} equally specific rules)` : '';
  return {
    level: rule.level,
    reason: `${subject}${condition ? ` ${condition}` : ''}: ${label}${scope} ${consequence(rule.level)}${tie}`,
    ruleIndex: index,
  };
}
