/**
 * Where the monthly billing state machines are defined and which Lambda each of their Task
 * Resources stands for. The CDK construct (lib/constructs/billing-workflow.ts) and local mode
 * (local/step-functions.ts) both build the machines from this, so they cannot disagree.
 *
 * Two machines: the run (one execution per run, continued as a new execution every
 * PAGES_PER_EXECUTION pages) pages through the tenants and starts one execution of the page
 * machine per page, which charges that page's tenants.
 */

/** The run's definition, relative to the repository root; the CDK construct and local mode both read it. */
export const MONTHLY_BILLING_DEFINITION = 'statemachines/monthly-billing.asl.json';
/** The page machine's definition. */
export const MONTHLY_BILLING_PAGE_DEFINITION = 'statemachines/monthly-billing-page.asl.json';
/** The run's DefinitionSubstitutions placeholder for the page machine's ARN. */
export const PAGE_STATE_MACHINE_PLACEHOLDER = 'ChargePageStateMachineArn';

/** Each DefinitionSubstitutions placeholder of the ASL files and the step Lambda whose ARN it stands for. */
export const MONTHLY_BILLING_STEPS = {
  ListTenantsFunctionArn: { name: 'list-tenants', entry: 'lambdas/handlers/workflow/list-tenants.ts' },
  ChargeMonthlyFeeFunctionArn: {
    name: 'charge-monthly-fee',
    entry: 'lambdas/handlers/workflow/charge-monthly-fee.ts',
  },
  SuspendTenantFunctionArn: { name: 'suspend-tenant', entry: 'lambdas/handlers/workflow/suspend-tenant.ts' },
} as const;
export type MonthlyBillingStep = (typeof MONTHLY_BILLING_STEPS)[keyof typeof MONTHLY_BILLING_STEPS]['name'];
export type MonthlyBillingPlaceholder = keyof typeof MONTHLY_BILLING_STEPS;

/** Which step Lambdas each machine's file names. */
export const RUN_STEP_PLACEHOLDERS: readonly MonthlyBillingPlaceholder[] = ['ListTenantsFunctionArn'];
export const PAGE_STEP_PLACEHOLDERS: readonly MonthlyBillingPlaceholder[] = [
  'ChargeMonthlyFeeFunctionArn',
  'SuspendTenantFunctionArn',
];
