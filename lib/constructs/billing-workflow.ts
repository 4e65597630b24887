import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type Alarm, GraphWidget, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { GSI1 } from '../../lambdas/adapters/dynamodb/table-definition';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingStep,
} from '../../lambdas/handlers/workflow/monthly-billing-definition';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import {
  executionAlarms,
  executionsWidget,
  occurrenceAlarm,
  summed,
  WORKFLOW_METRIC_PERIOD,
  workflowStateMachine,
} from './workflow-state-machine';

/** 00:05 UTC on the 1st of every month: the run bills the month that has just begun. */
export const MONTHLY_BILLING_CRON = { minute: '5', hour: '0', day: '1', month: '*', year: '*' } as const;

/**
 * Each step Lambda's own timeout. The ASL gives every Task a TimeoutSeconds above these, so a
 * step that hangs is ended by Lambda (and retried) before Step Functions gives up on it.
 */
export const STEP_TIMEOUTS: Readonly<Record<MonthlyBillingStep, Duration>> = {
  'list-tenants': Duration.seconds(30),
  'charge-monthly-fee': Duration.seconds(30),
  // Pausing a suspended tenant's agents is one write per agent.
  'suspend-tenant': Duration.seconds(90),
};

export interface BillingWorkflowProps {
  /** Stage, log retention, Lambda defaults and the token costs (the monthly fee) come from here. */
  readonly config: EnvironmentConfig;
  readonly data: DataTableResources;
  /** Where `tokens.debited`, `balance.low` and `tenant.suspended` go. */
  readonly eventBus: IEventBus;
}

/**
 * The monthly fee run (issue 4): the Standard state machine defined by
 * statemachines/monthly-billing.asl.json, its three step Lambdas, the EventBridge Scheduler
 * schedule that starts it on the 1st of each month, and alarms for a run that fails, times out
 * or never starts. The period comes from the schedule's time (see the ASL's ResolvePeriod);
 * to re-run a month by hand, start an execution with `{"period": "YYYY-MM"}`.
 */
export class BillingWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  public readonly functions: Readonly<Record<MonthlyBillingStep, HouseFunction>>;
  public readonly schedule: Schedule;
  public readonly scheduleGroup: ScheduleGroup;
  /** Not yet wired to a topic: the stack hands them to the observability construct's topic. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: BillingWorkflowProps) {
    super(scope, id);
    const { config, data, eventBus } = props;
    const name = `agent-platform-${config.stageName}-monthly-billing`;

    // The billing Lambdas: the composition (lambdas/adapters/billing-composition.ts) reads these.
    const billingEnvironment = {
      TOKEN_COSTS: JSON.stringify(config.tokenCosts),
      EVENT_BUS_NAME: eventBus.eventBusName,
    };

    const listTenants = new HouseFunction(this, 'ListTenantsFunction', {
      entry: MONTHLY_BILLING_STEPS.ListTenantsFunctionArn.entry,
      description: `Monthly billing run: next page of active tenants, running tally (${config.stageName})`,
      serviceName: 'billing-list-tenants',
      config,
      timeout: STEP_TIMEOUTS['list-tenants'],
      // No `table` grant: the listing is one Query on the tenant index, which is all it may do.
      environment: { TABLE_NAME: data.table.tableName },
    });
    this.grantTenantListing(listTenants, data);
    // The tenant listing's cursor travels in the execution's state between pages.
    listTenants.grantCursorKey(data);

    const chargeMonthlyFee = new HouseFunction(this, 'ChargeMonthlyFeeFunction', {
      entry: MONTHLY_BILLING_STEPS.ChargeMonthlyFeeFunctionArn.entry,
      description: `Monthly billing run: charge one tenant's monthly fee once per period (${config.stageName})`,
      serviceName: 'billing-charge-monthly-fee',
      config,
      timeout: STEP_TIMEOUTS['charge-monthly-fee'],
      environment: billingEnvironment,
      table: { resources: data, access: 'readWrite' },
    });
    const suspendTenant = new HouseFunction(this, 'SuspendTenantFunction', {
      entry: MONTHLY_BILLING_STEPS.SuspendTenantFunctionArn.entry,
      description: `Monthly billing run: suspend a tenant that cannot pay, pause its agents (${config.stageName})`,
      serviceName: 'billing-suspend-tenant',
      config,
      timeout: STEP_TIMEOUTS['suspend-tenant'],
      environment: billingEnvironment,
      table: { resources: data, access: 'readWrite' },
    });
    for (const fn of [chargeMonthlyFee, suspendTenant]) {
      // PutEvents on this bus only (not grantPutEventsTo's wider reach).
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['events:PutEvents'],
          resources: [eventBus.eventBusArn],
        }),
      );
    }
    this.functions = {
      'list-tenants': listTenants,
      'charge-monthly-fee': chargeMonthlyFee,
      'suspend-tenant': suspendTenant,
    };

    const steps: Record<string, HouseFunction> = {};
    for (const [placeholder, step] of Object.entries(MONTHLY_BILLING_STEPS)) {
      steps[placeholder] = this.functions[step.name];
    }
    // The very file local mode runs (npm run billing:monthly); the ARNs go in by substitution.
    const workflow = workflowStateMachine(this, {
      config,
      stateMachineName: name,
      definitionFile: MONTHLY_BILLING_DEFINITION,
      steps,
      stepsDescription: 'the three step functions',
    });
    this.stateMachine = workflow.stateMachine;
    this.logGroup = workflow.logGroup;

    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: `agent-platform-${config.stageName}-billing`,
      // Holds nothing but the schedule deleted with it: a retained, named group would only make the
      // next deploy of the stack fail with "already exists".
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedule = new Schedule(this, 'MonthlySchedule', {
      scheduleGroup: this.scheduleGroup,
      description: `Starts the monthly fee run at 00:05 UTC on the 1st of each month (${config.stageName})`,
      schedule: ScheduleExpression.cron(MONTHLY_BILLING_CRON),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        // The time the schedule fired for, however late the start: the ASL bills its month.
        input: ScheduleTargetInput.fromObject({ scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: 20,
        maxEventAge: Duration.hours(6),
      }),
    });
    // The schedule names its group by name, which CloudFormation does not see as a dependency.
    this.schedule.node.addDependency(this.scheduleGroup);

    const dropped = this.scheduleGroup.metricDropped({ period: WORKFLOW_METRIC_PERIOD, statistic: 'Sum' });
    this.alarms = [
      ...executionAlarms(this, this.stateMachine, {
        failed: `The monthly billing run failed (${config.stageName})`,
        timedOut: `The monthly billing run hit its TimeoutSeconds (${config.stageName})`,
      }),
      occurrenceAlarm(
        this,
        'ScheduleDroppedAlarm',
        dropped,
        `The monthly billing schedule could not start the run; start it by hand with {"period":"YYYY-MM"} (${config.stageName})`,
      ),
    ];
  }

  /** The billing run's row on the dashboard. */
  public widgets(): IWidget[] {
    return [
      executionsWidget(this.stateMachine, 'Monthly billing runs', 8),
      new GraphWidget({
        title: 'Monthly billing step errors',
        left: Object.entries(this.functions).map(([stepName, fn]) =>
          fn.function.metricErrors({ period: WORKFLOW_METRIC_PERIOD, statistic: 'Sum', label: stepName }),
        ),
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Monthly billing schedule (target errors / dropped)',
        left: [
          summed(this.scheduleGroup.metricTargetErrors(), 'Target errors'),
          summed(this.scheduleGroup.metricDropped(), 'Dropped'),
        ],
        width: 8,
        height: 6,
      }),
    ];
  }

  /** Query on the index that holds the tenant listing, and the key to read it: nothing else. */
  private grantTenantListing(fn: HouseFunction, data: DataTableResources): void {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['dynamodb:Query'],
        resources: [`${data.table.tableArn}/index/${GSI1}`],
      }),
    );
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['kms:Decrypt'],
        resources: [data.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
