import * as z from 'zod/mini';
import { NotFoundError, RateLimitedError } from '../shared/errors';
import { integer, lazySchema } from '../shared/zod';

/**
 * Per-tenant rate limits on turns: every turn an agent is asked to run — chat, process,
 * execute, and inbound channel messages — is admitted here first, before anything is reserved,
 * charged or run. Two limits apply together, counted in fixed one-minute windows: all turns of
 * the tenant, and the turns of each of its agents (so one busy agent cannot starve the others).
 * The environment sets the defaults (cdk.json `turnRateLimits` → `TURN_RATE_LIMITS`); the
 * platform operator can set a tenant's own.
 */
export interface TurnRateLimits {
  /** Turns a tenant may start per minute, over all its agents. */
  readonly turnsPerMinute: number;
  /** Turns one agent may start per minute. */
  readonly agentTurnsPerMinute: number;
}

export const MAX_TURNS_PER_MINUTE = 100_000;

/** Body of the operator's "set a tenant's limits" route, and the shape of `TURN_RATE_LIMITS`. */
export const turnRateLimitsSchema = lazySchema(() =>
  z
    .strictObject({
      turnsPerMinute: integer(1, MAX_TURNS_PER_MINUTE),
      agentTurnsPerMinute: integer(1, MAX_TURNS_PER_MINUTE),
    })
    .check(
      z.refine((limits) => limits.agentTurnsPerMinute <= limits.turnsPerMinute, {
        message: 'must not exceed turnsPerMinute',
        path: ['agentTurnsPerMinute'],
      }),
    ),
);

/** What a tenant is held to, and whether the operator set it or it is the environment's default. */
export const effectiveRateLimitsResponse = lazySchema(() =>
  z.object({
    tenantId: z.string(),
    turnsPerMinute: z.int(),
    agentTurnsPerMinute: z.int(),
    source: z.enum(['default', 'override']),
    updatedAt: z.optional(z.string()),
    updatedBy: z.optional(z.string()),
  }),
);
export type EffectiveRateLimits = z.infer<ReturnType<typeof effectiveRateLimitsResponse>>;

export interface RateLimitOverride extends TurnRateLimits {
  readonly updatedAt: string;
  /** The operator who set it. */
  readonly updatedBy: string;
}

export type TurnCount =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly limit: 'tenant' | 'agent' };

export interface RateLimitRepository {
  getOverride(tenantId: string): Promise<RateLimitOverride | undefined>;
  setOverride(tenantId: string, override: RateLimitOverride): Promise<void>;
  clearOverride(tenantId: string): Promise<void>;
  /**
   * Counts one turn of the tenant and of the agent in the window starting at `windowStart`,
   * unless either count has reached its limit, in which case nothing is counted: one
   * conditional write.
   */
  countTurn(
    tenantId: string,
    agentId: string,
    window: { readonly start: Date; readonly seconds: number },
    limits: TurnRateLimits,
  ): Promise<TurnCount>;
}

export interface RateLimitDeps {
  readonly rateLimits: RateLimitRepository;
  /** The environment's limits, for tenants without an override. */
  readonly defaults: TurnRateLimits;
  readonly now: () => Date;
}

export const RATE_WINDOW_SECONDS = 60;

async function limitsOf(
  deps: RateLimitDeps,
  tenantId: string,
): Promise<TurnRateLimits & { override?: RateLimitOverride }> {
  const override = await deps.rateLimits.getOverride(tenantId);
  return override ? { ...override, override } : deps.defaults;
}

/**
 * Admits one turn of `agentId` or refuses it with 429 and how long to wait. Call it before
 * anything else of the turn: a refused turn has counted, reserved and charged nothing.
 */
export async function admitTurn(deps: RateLimitDeps, tenantId: string, agentId: string): Promise<void> {
  const limits = await limitsOf(deps, tenantId);
  const now = deps.now();
  const windowMs = RATE_WINDOW_SECONDS * 1000;
  const start = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const counted = await deps.rateLimits.countTurn(
    tenantId,
    agentId,
    { start, seconds: RATE_WINDOW_SECONDS },
    { turnsPerMinute: limits.turnsPerMinute, agentTurnsPerMinute: limits.agentTurnsPerMinute },
  );
  if (counted.admitted) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((start.getTime() + windowMs - now.getTime()) / 1000));
  const [limit, what] =
    counted.limit === 'tenant'
      ? [limits.turnsPerMinute, 'This tenant']
      : [limits.agentTurnsPerMinute, `Agent ${agentId}`];
  throw new RateLimitedError(
    `${what} has reached its limit of ${limit} turns per minute; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
    { limit: counted.limit, turnsPerMinute: limit },
  );
}

/** A tenant's limits as they apply now. */
export async function getTenantRateLimits(
  deps: RateLimitDeps & { readonly tenants: { get(tenantId: string): Promise<unknown> } },
  tenantId: string,
): Promise<EffectiveRateLimits> {
  if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant', tenantId);
  const limits = await limitsOf(deps, tenantId);
  return {
    tenantId,
    turnsPerMinute: limits.turnsPerMinute,
    agentTurnsPerMinute: limits.agentTurnsPerMinute,
    source: limits.override ? 'override' : 'default',
    ...(limits.override
      ? { updatedAt: limits.override.updatedAt, updatedBy: limits.override.updatedBy }
      : {}),
  };
}

/**
 * The platform operator's override of a tenant's limits (operator routes only: tenants cannot
 * change their own). Takes effect from the tenant's next turn on.
 */
export async function setTenantRateLimits(
  deps: RateLimitDeps & { readonly tenants: { get(tenantId: string): Promise<unknown> } },
  operator: { readonly id: string },
  tenantId: string,
  limits: TurnRateLimits,
): Promise<EffectiveRateLimits> {
  if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant', tenantId);
  await deps.rateLimits.setOverride(tenantId, {
    turnsPerMinute: limits.turnsPerMinute,
    agentTurnsPerMinute: limits.agentTurnsPerMinute,
    updatedAt: deps.now().toISOString(),
    updatedBy: operator.id,
  });
  return getTenantRateLimits(deps, tenantId);
}

/** Back to the environment's defaults. */
export async function clearTenantRateLimits(
  deps: RateLimitDeps & { readonly tenants: { get(tenantId: string): Promise<unknown> } },
  tenantId: string,
): Promise<EffectiveRateLimits> {
  if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant', tenantId);
  await deps.rateLimits.clearOverride(tenantId);
  return getTenantRateLimits(deps, tenantId);
}

/** Local mode's and the tests' limits, where no environment sets them (`TURN_RATE_LIMITS` unset). */
export const LOCAL_TURN_RATE_LIMITS: TurnRateLimits = { turnsPerMinute: 600, agentTurnsPerMinute: 300 };
