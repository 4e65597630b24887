/**
 * Where the monthly billing state machine is defined and which Lambda each of its Task Resources
 * stands for. The CDK construct (lib/constructs/billing-workflow.ts) and local mode
 * (local/step-functions.ts) both build the machine from this, so they cannot disagree.
 */

/** The definition, relative to the repository root; the CDK construct and local mode both read it. */
export const MONTHLY_BILLING_DEFINITION = 'statemachines/monthly-billing.asl.json';

/** Each DefinitionSubstitutions placeholder of the ASL and the step Lambda whose ARN it stands for. */
export const MONTHLY_BILLING_STEPS = {
  ListTenantsFunctionArn: { name: 'list-tenants', entry: 'lambdas/handlers/workflow/list-tenants.ts' },
  ChargeMonthlyFeeFunctionArn: {
    name: 'charge-monthly-fee',
    entry: 'lambdas/handlers/workflow/charge-monthly-fee.ts',
  },
  SuspendTenantFunctionArn: { name: 'suspend-tenant', entry: 'lambdas/handlers/workflow/suspend-tenant.ts' },
} as const;
export type MonthlyBillingStep = (typeof MONTHLY_BILLING_STEPS)[keyof typeof MONTHLY_BILLING_STEPS]['name'];
