import { createHash } from 'node:crypto';
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

/** The page execution's output: one result per tenant of the page, as its Map ends them. */
const pageRun = () => z.object({ executionArn: z.optional(z.string()), results: z.array(tenantResult()) });

/**
 * ListTenants gets the whole state: nothing but the period and the run's id on the first page of
 * a run; a continuation (a new execution of the run, see `continueAsNew`) starts with the state its
 * predecessor handed over, without `pagesInExecution`.
 */
export const listTenantsInput = lazySchema(() =>
  z.object({
    period: period(),
    /** The first execution's id: the run's identity, from which its executions' names derive. */
    runId: z.string().check(z.minLength(1), z.maxLength(2048)),
    cursor: z.optional(z.nullable(z.string())),
    hasMore: z.optional(z.boolean()),
    tally: z.optional(tallySchema()),
    /** The previous page's execution, whose results are folded into the tally. */
    lastPage: z.optional(pageRun()),
    /** Pages this execution has read so far (absent in a new execution). */
    pagesInExecution: z.optional(z.int().check(z.gte(0))),
  }),
);
export type ListTenantsInput = z.input<ReturnType<typeof listTenantsInput>>;

export interface ListTenantsOutput {
  readonly period: string;
  readonly runId: string;
  /** This page's active tenants; the page execution maps over them. */
  readonly tenantIds: string[];
  /** Where the next page starts; null on the last page. */
  readonly cursor: string | null;
  /** Whether another page follows this one. */
  readonly hasMore: boolean;
  /** Nothing left to charge: the run ends with the tally. */
  readonly done: boolean;
  readonly tally: BillingRunTally;
  /** Pages this execution has read, this one included. */
  readonly pagesInExecution: number;
  /** The name of the execution that charges this page: the same on a retry of its start. */
  readonly pageExecutionName: string;
  /** After this page, the run goes on in a new execution (its history would grow past the bound). */
  readonly continueAsNew: boolean;
  /** The name of that new execution. */
  readonly continuationName: string;
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

/** Tenants per page, so per page execution: bounds the state's size (a result is ~100 bytes). */
export const DEFAULT_TENANT_PAGE_SIZE = 100;
/**
 * The largest page: a page execution records 11 events per tenant that pays, 14 per tenant
 * suspended, and 6; at most 80 per tenant when every step exhausts its retries (the charge's and
 * the suspension's 11 retries × 3 each): 300 × 80 + 6 < 25,000.
 */
export const MAX_TENANT_PAGE_SIZE = 300;
/** Pages one execution of the run reads before it continues as a new execution. */
export const DEFAULT_PAGES_PER_EXECUTION = 100;
/**
 * The most: the run's execution records 15 events a page (ListTenants 5, a Choice 2, ChargePage 6,
 * a Choice 2), at most 57 with every retry used (ListTenants 6 × 3, ChargePage 6 × 4), and at most
 * 17 of its own: 400 × 57 + 17 < 25,000.
 */
export const MAX_PAGES_PER_EXECUTION = 400;

export interface ListTenantsDeps {
  readonly tenants: Pick<TenantRepository, 'listTenantIds'>;
  readonly pageSize: number;
  readonly pagesPerExecution: number;
}

/**
 * A Step Functions execution name for the run: the period, a digest of the run's id (which can be
 * a long ARN) and a suffix; at most 80 characters of [0-9A-Za-z-], as StartExecution requires.
 * The same run, page and suffix always give the same name, so a retried StartExecution joins the
 * execution it already started (the service answers with it) instead of starting a second one.
 */
export function runExecutionName(forPeriod: string, runId: string, suffix: string): string {
  const digest = createHash('sha256').update(runId).digest('hex').slice(0, 24);
  return `${forPeriod}-${digest}-${suffix}`;
}

/**
 * The billing run's paging step: folds the previous page's outcomes into the tally, then reads the
 * next page of active tenant ids. Called once more after the last page (`hasMore: false`) to fold
 * that page, which ends the run. After `pagesPerExecution` pages, if more follow, it tells the
 * state machine to continue as a new execution, so no execution's history grows with the number
 * of tenants.
 */
export function listTenantsStep(deps: ListTenantsDeps) {
  return async (event: unknown): Promise<ListTenantsOutput> => {
    const input = parseStepInput(listTenantsInput(), event, 'ListTenants');
    const { period: forPeriod, runId } = input;
    const tally = foldResults(input.tally ?? emptyTally(forPeriod), input.lastPage?.results ?? []);
    const pagesInExecution = input.pagesInExecution ?? 0;
    if (input.hasMore === false) {
      logger.info('Monthly billing run tallied', { ...tally, failures: tally.failures.length });
      return {
        period: forPeriod,
        runId,
        tenantIds: [],
        cursor: null,
        hasMore: false,
        done: true,
        tally,
        pagesInExecution,
        pageExecutionName: '',
        continueAsNew: false,
        continuationName: '',
      };
    }
    const page = await deps.tenants.listTenantIds(
      { limit: deps.pageSize, ...(input.cursor ? { cursor: input.cursor } : {}) },
      { status: 'active' },
    );
    const hasMore = page.nextCursor !== undefined;
    const pageNumber = tally.pages + 1;
    const readHere = pagesInExecution + 1;
    return {
      period: forPeriod,
      runId,
      tenantIds: page.items,
      cursor: page.nextCursor ?? null,
      hasMore,
      done: page.items.length === 0 && !hasMore,
      tally: { ...tally, pages: pageNumber },
      pagesInExecution: readHere,
      pageExecutionName: runExecutionName(forPeriod, runId, `p${pageNumber}`),
      continueAsNew: hasMore && readHere >= deps.pagesPerExecution,
      continuationName: runExecutionName(forPeriod, runId, `from-p${pageNumber + 1}`),
    };
  };
}
