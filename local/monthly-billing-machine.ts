import { join } from 'node:path';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_PAGE_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingStep,
  PAGE_STATE_MACHINE_PLACEHOLDER,
} from '../lambdas/handlers/workflow/monthly-billing-definition';
import {
  createLocalStateMachine,
  type LocalStateMachine,
  LocalStepFunctions,
  localFunctionArn,
  type TaskHandler,
} from './step-functions';

const REPO_ROOT = join(__dirname, '..');

/** The monthly billing machines' local ARNs. */
export const LOCAL_MONTHLY_BILLING_ARNS = {
  run: 'arn:aws:states:us-east-1:000000000000:stateMachine:monthly-billing',
  page: 'arn:aws:states:us-east-1:000000000000:stateMachine:monthly-billing-page',
} as const;

/**
 * statemachines/monthly-billing.asl.json and monthly-billing-page.asl.json on one local service,
 * each Task mapped to its step's handler: the run machine, whose executions start the page
 * machine's (and continue as new executions of the run machine) in this process.
 */
export function localMonthlyBilling(options: {
  readonly handlers: Readonly<Record<MonthlyBillingStep, TaskHandler>>;
  /** Where the executions are recorded; a new service by default. */
  readonly service?: LocalStepFunctions;
}): LocalStateMachine {
  const service = options.service ?? new LocalStepFunctions();
  const substitutions: Record<string, string> = {
    [PAGE_STATE_MACHINE_PLACEHOLDER]: LOCAL_MONTHLY_BILLING_ARNS.page,
  };
  const handlers: Record<string, TaskHandler> = {};
  for (const [placeholder, step] of Object.entries(MONTHLY_BILLING_STEPS)) {
    const arn = localFunctionArn(`monthly-billing-${step.name}`);
    substitutions[placeholder] = arn;
    handlers[arn] = options.handlers[step.name];
  }
  const page = createLocalStateMachine({
    definitionFile: join(REPO_ROOT, MONTHLY_BILLING_PAGE_DEFINITION),
    stateMachineArn: LOCAL_MONTHLY_BILLING_ARNS.page,
    substitutions,
    handlers,
    service,
  });
  const run = createLocalStateMachine({
    definitionFile: join(REPO_ROOT, MONTHLY_BILLING_DEFINITION),
    stateMachineArn: LOCAL_MONTHLY_BILLING_ARNS.run,
    substitutions,
    handlers,
    service,
  });
  service.register(LOCAL_MONTHLY_BILLING_ARNS.page, page);
  service.register(LOCAL_MONTHLY_BILLING_ARNS.run, run);
  return run;
}

export interface MonthlyBillingMachineOptions {
  /**
   * Wraps a step's handler (fault injection, observation). The step handlers are imported on the
   * first call, so the table and the billing configuration must be in the environment by then.
   */
  readonly wrap?: (step: MonthlyBillingStep, handler: TaskHandler) => TaskHandler;
  /** Where the executions are recorded (to count their history events); a new service by default. */
  readonly service?: LocalStepFunctions;
}

/**
 * The monthly billing run (both machines, see `localMonthlyBilling`) with the three step Lambdas'
 * handlers, in this process. The handlers read their configuration (TABLE_NAME,
 * DYNAMODB_ENDPOINT, TENANT_PAGE_SIZE, PAGES_PER_EXECUTION, ...) when first imported.
 */
export async function monthlyBillingMachine(
  options: MonthlyBillingMachineOptions = {},
): Promise<LocalStateMachine> {
  const imported: Record<MonthlyBillingStep, TaskHandler> = {
    'list-tenants': (await import('../lambdas/handlers/workflow/list-tenants')).handler,
    'charge-monthly-fee': (await import('../lambdas/handlers/workflow/charge-monthly-fee')).handler,
    'suspend-tenant': (await import('../lambdas/handlers/workflow/suspend-tenant')).handler,
  };
  const handlers = {} as Record<MonthlyBillingStep, TaskHandler>;
  for (const step of Object.keys(imported) as MonthlyBillingStep[]) {
    handlers[step] = options.wrap ? options.wrap(step, imported[step]) : imported[step];
  }
  return localMonthlyBilling({ handlers, ...(options.service ? { service: options.service } : {}) });
}
