import * as z from 'zod/mini';
import { AppError } from '../../domain/shared/errors';
import { lazySchema } from '../../domain/shared/zod';
import type { TenantRepository } from '../../domain/tenants/ports';
import { logger } from '../../observability';

/**
 * The contract between statemachines/monthly-billing.asl.json and its step Lambdas: the state the
 * run carries from page to page, what each step takes and returns, and the tally that becomes the
 * execution's output. Step inputs are validated here, because the ASL is a file the compiler does
 * not see.
 */

/** Who the ledger says charged the fee. */
export const BILLING_RUN_ACTOR = 'system:monthly-billing';
/** Why a tenant that cannot pay is suspended (the `tenant.suspended` event's reason). */
export const UNPAID_MONTHLY_FEE = 'monthly_fee_unpaid';
/** Failed tenants listed in the output; `failed` counts all of them. Keeps the state well under 256 KB. */
export const MAX_LISTED_FAILURES = 100;

/** A billing period: a calendar month, `YYYY-MM`. */
export const PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
const period = () => z.string().check(z.regex(PERIOD_PATTERN, 'must be a month, YYYY-MM'));
const tenantId = () => z.string().check(z.minLength(1), z.maxLength(64));

/** The input of a step is not what the state machine should hand it: a bug, never retried. */
export class StepInputError extends Error {
  override readonly name = 'BillingRun.InvalidInput';
}

export function parseStepInput<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  step: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    throw new StepInputError(`${step}: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * What a step throws, named for the state machine's Retry and Catch. Domain errors are renamed
 * after their code (`Billing.CONFLICT`, `Billing.BALANCE_BUSY`, ...): their class names, which
 * `AppError` uses as `name`, do not survive the bundles' minification.
 */
export class StepError extends Error {
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

export function asStepError(error: unknown): unknown {
  return error instanceof AppError
    ? new StepError(`Billing.${error.code}`, error.message, { cause: error })
    : error;
}

const failure = () =>
  z.object({ tenantId: tenantId(), step: z.enum(['charge', 'suspend']), error: z.string() });
export type TenantFailure = z.output<ReturnType<typeof failure>>;

const tallySchema = () =>
  z.object({
    period: period(),
    pages: z.int().check(z.gte(0)),
    tenants: z.int().check(z.gte(0)),
    charged: z.int().check(z.gte(0)),
    alreadyCharged: z.int().check(z.gte(0)),
    suspended: z.int().check(z.gte(0)),
    failed: z.int().check(z.gte(0)),
    failures: z.array(failure()),
  });
/** The run's running totals, and its output. */
export type BillingRunTally = z.output<ReturnType<typeof tallySchema>>;

/** What one Map iteration ends with: the charge step's output, the suspend step's, or a caught failure. */
const tenantResult = () =>
  z.discriminatedUnion('outcome', [
    z.object({ tenantId: tenantId(), outcome: z.literal('charged') }),
    z.object({ tenantId: tenantId(), outcome: z.literal('already_charged') }),
    z.object({ tenantId: tenantId(), outcome: z.literal('suspended') }),
    z.object({
      tenantId: tenantId(),
      outcome: z.literal('failed'),
      step: z.enum(['charge', 'suspend']),
      error: z.string(),
    }),
  ]);
export type TenantResult = z.output<ReturnType<typeof tenantResult>>;

/** ListTenants gets the whole state: nothing but the period on the first page. */
export const listTenantsInput = lazySchema(() =>
  z.object({
    period: period(),
    cursor: z.optional(z.nullable(z.string())),
    hasMore: z.optional(z.boolean()),
    tally: z.optional(tallySchema()),
    results: z.optional(z.array(tenantResult())),
  }),
);
export type ListTenantsInput = z.input<ReturnType<typeof listTenantsInput>>;

export interface ListTenantsOutput {
  readonly period: string;
  /** This page's active tenants; the Map iterates over them. */
  readonly tenantIds: string[];
  /** Where the next page starts; null on the last page. */
  readonly cursor: string | null;
  /** Whether another page follows this one. */
  readonly hasMore: boolean;
  /** Nothing left to charge: the run ends with the tally. */
  readonly done: boolean;
  readonly tally: BillingRunTally;
}

export const chargeMonthlyFeeInput = lazySchema(() => z.object({ tenantId: tenantId(), period: period() }));

export type ChargeMonthlyFeeOutput =
  | {
      readonly tenantId: string;
      readonly period: string;
      readonly outcome: 'charged' | 'already_charged';
      readonly entryId: string;
    }
  | {
      readonly tenantId: string;
      readonly period: string;
      readonly outcome: 'insufficient';
      readonly available: number;
      readonly required: number;
    };

/** SuspendTenant gets the charge step's `insufficient` output. */
export const suspendTenantInput = lazySchema(() =>
  z.object({
    tenantId: tenantId(),
    period: period(),
    outcome: z.literal('insufficient'),
    available: z.optional(z.number()),
    required: z.optional(z.number()),
  }),
);

export interface SuspendTenantOutput {
  readonly tenantId: string;
  readonly period: string;
  /** `charged`: tokens arrived after the charge step, so the fee was charged instead. */
  readonly outcome: 'suspended' | 'charged';
}

export function emptyTally(forPeriod: string): BillingRunTally {
  return {
    period: forPeriod,
    pages: 0,
    tenants: 0,
    charged: 0,
    alreadyCharged: 0,
    suspended: 0,
    failed: 0,
    failures: [],
  };
}

/** Adds one page's Map results to the tally. */
export function foldResults(tally: BillingRunTally, results: readonly TenantResult[]): BillingRunTally {
  let { charged, alreadyCharged, suspended, failed } = tally;
  const failures = [...tally.failures];
  for (const result of results) {
    switch (result.outcome) {
      case 'charged':
        charged++;
        break;
      case 'already_charged':
        alreadyCharged++;
        break;
      case 'suspended':
        suspended++;
        break;
      case 'failed':
        failed++;
        if (failures.length < MAX_LISTED_FAILURES) {
          failures.push({ tenantId: result.tenantId, step: result.step, error: result.error });
        }
        break;
    }
  }
  return {
    ...tally,
    tenants: tally.tenants + results.length,
    charged,
    alreadyCharged,
    suspended,
    failed,
    failures,
  };
}

/** Tenants per page, so per Map state: bounds the state's size (a result is ~100 bytes). */
export const DEFAULT_TENANT_PAGE_SIZE = 100;

export interface ListTenantsDeps {
  readonly tenants: Pick<TenantRepository, 'listTenantIds'>;
  readonly pageSize: number;
}

/**
 * The billing run's paging step: folds the previous page's outcomes into the tally, then reads the
 * next page of active tenant ids. Called once more after the last page (`hasMore: false`) to fold
 * that page, which ends the run.
 */
export function listTenantsStep(deps: ListTenantsDeps) {
  return async (event: unknown): Promise<ListTenantsOutput> => {
    const input = parseStepInput(listTenantsInput(), event, 'ListTenants');
    const tally = foldResults(input.tally ?? emptyTally(input.period), input.results ?? []);
    if (input.hasMore === false) {
      logger.info('Monthly billing run tallied', { ...tally, failures: tally.failures.length });
      return { period: input.period, tenantIds: [], cursor: null, hasMore: false, done: true, tally };
    }
    const page = await deps.tenants.listTenantIds(
      { limit: deps.pageSize, ...(input.cursor ? { cursor: input.cursor } : {}) },
      { status: 'active' },
    );
    const hasMore = page.nextCursor !== undefined;
    return {
      period: input.period,
      tenantIds: page.items,
      cursor: page.nextCursor ?? null,
      hasMore,
      done: page.items.length === 0 && !hasMore,
      tally: { ...tally, pages: tally.pages + 1 },
    };
  };
}
