import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
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
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import { PLATFORM_KEY_PREFIXES } from '../../lambdas/composition/tenant-access-policy';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_PAGE_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingPlaceholder,
  type MonthlyBillingStep,
  PAGE_STATE_MACHINE_PLACEHOLDER,
  PAGE_STEP_PLACEHOLDERS,
  RUN_STEP_PLACEHOLDERS,
} from '../../lambdas/handlers/workflow/monthly-billing-definition';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { grantPlatformKeys, HouseFunction } from './house-function';
import type { TenantAccess } from './tenant-access';
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
  /** The environment's tenant-access role, which the charge and suspend steps assume to serve a tenant. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
}

/**
 * Step Functions' managed EventBridge rule, through which a `.sync` Task learns that the
 * execution it started has ended.
 */
export const SYNC_EXECUTION_EVENTS_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/**
 * The monthly fee run (issues 4 and 10): two Standard state machines — the run
 * (statemachines/monthly-billing.asl.json), which pages through the tenants, starts one execution
 * of the page machine (statemachines/monthly-billing-page.asl.json) per page and continues as a
 * new execution of itself every PAGES_PER_EXECUTION pages, so that no execution's history grows
 * with the number of tenants — their three step Lambdas, the EventBridge Scheduler schedule that
 * starts the run on the 1st of each month, and alarms for a run that fails, times out or never
 * starts. The period comes from the schedule's time (see the ASL's ResolvePeriod); to re-run a
 * month by hand, start an execution of the run with `{"period": "YYYY-MM"}`.
 */
export class BillingWorkflow extends Construct {
  /** The run: the machine the schedule starts. */
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  /** The page machine: one execution per page of tenants, started by the run. */
  public readonly pageStateMachine: StateMachine;
  public readonly pageLogGroup: LogGroup;
  public readonly functions: Readonly<Record<MonthlyBillingStep, HouseFunction>>;
  public readonly schedule: Schedule;
  public readonly scheduleGroup: ScheduleGroup;
  /** Not yet wired to a topic: the stack hands them to the observability construct's topic. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: BillingWorkflowProps) {
    super(scope, id);
    const { config, data, eventBus } = props;
    const name = `agent-platform-${config.stageName}-monthly-billing`;

    // The billing Lambdas: the composition (lambdas/composition/billing.ts) reads these.
    const billingEnvironment: EnvironmentVariables = {
      [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
      [ENV.EVENT_BUS_NAME]: eventBus.eventBusName,
    };

    const listTenants = new HouseFunction(this, 'ListTenantsFunction', {
      entry: MONTHLY_BILLING_STEPS.ListTenantsFunctionArn.entry,
      description: `Monthly billing run: next page of active tenants, running tally (${config.stageName})`,
      serviceName: 'billing-list-tenants',
      config,
      timeout: STEP_TIMEOUTS['list-tenants'],
      // No `table` grant: the listing is one Query on the tenant index, which is all it may do.
      environment: { [ENV.TABLE_NAME]: data.table.tableName },
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
      tenantAccess: props.tenantAccess,
    });
    const suspendTenant = new HouseFunction(this, 'SuspendTenantFunction', {
      entry: MONTHLY_BILLING_STEPS.SuspendTenantFunctionArn.entry,
      description: `Monthly billing run: suspend a tenant that cannot pay, pause its agents (${config.stageName})`,
      serviceName: 'billing-suspend-tenant',
      config,
      timeout: STEP_TIMEOUTS['suspend-tenant'],
      environment: billingEnvironment,
      table: { resources: data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
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

    const stepsOf = (placeholders: readonly MonthlyBillingPlaceholder[]) =>
      Object.fromEntries(placeholders.map((p) => [p, this.functions[MONTHLY_BILLING_STEPS[p].name]]));
    // The very files local mode runs (npm run billing:monthly); the ARNs go in by substitution.
    const pageName = `${name}-page`;
    const page = workflowStateMachine(new Construct(this, 'Page'), {
      config,
      stateMachineName: pageName,
      definitionFile: MONTHLY_BILLING_PAGE_DEFINITION,
      steps: stepsOf(PAGE_STEP_PLACEHOLDERS),
      stepsDescription: 'the charge and suspend step functions',
    });
    this.pageStateMachine = page.stateMachine;
    this.pageLogGroup = page.logGroup;
    const workflow = workflowStateMachine(this, {
      config,
      stateMachineName: name,
      definitionFile: MONTHLY_BILLING_DEFINITION,
      steps: stepsOf(RUN_STEP_PLACEHOLDERS),
      stepsDescription: 'the list-tenants step function',
      substitutions: { [PAGE_STATE_MACHINE_PLACEHOLDER]: page.stateMachine.stateMachineArn },
    });
    this.stateMachine = workflow.stateMachine;
    this.logGroup = workflow.logGroup;
    this.grantNestedExecutions(this.stateMachine, [pageName, name]);

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

  /**
   * What `states:startExecution.sync:2` needs (as CDK's StepFunctionsStartExecution task grants
   * it): start the named machines — the page machine, and the run itself to continue as new —,
   * describe and stop their executions, and the managed rule that reports their end. The run's own
   * ARN is built from its name: a reference to the machine would make its role depend on it.
   */
  private grantNestedExecutions(run: StateMachine, machineNames: readonly string[]): void {
    const stack = Stack.of(this);
    const arnOf = (resource: string, resourceName: string) =>
      stack.formatArn({
        service: 'states',
        resource,
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    run.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['states:StartExecution'],
        resources: machineNames.map((machineName) => arnOf('stateMachine', machineName)),
      }),
    );
    run.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: machineNames.map((machineName) => arnOf('execution', `${machineName}:*`)),
      }),
    );
    run.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: SYNC_EXECUTION_EVENTS_RULE,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // cdk-nag names the resource as the template has it: pseudo parameters where not resolved.
    const asNagSees = (value: string, pseudo: string) =>
      Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
    const arnPrefix = `arn:${asNagSees(stack.partition, 'Partition')}:states:${asNagSees(stack.region, 'Region')}:${asNagSees(stack.account, 'AccountId')}`;
    Validations.of(run.role).acknowledge(
      ...machineNames.map((machineName) => ({
        id: `AwsSolutions-IAM5[Resource::${arnPrefix}:execution:${machineName}:*]`,
        reason: `DescribeExecution and StopExecution on the executions of ${machineName} only, which the run starts under names it derives at run time (the period, the run and the page); .sync:2 needs them to follow and stop the execution it waits for.`,
      })),
    );
  }

  /**
   * Query on the index that holds the tenant listing, under the `TENANTS` key alone
   * (PLATFORM_KEY_PREFIXES), and the key to read it: nothing else.
   */
  private grantTenantListing(fn: HouseFunction, data: DataTableResources): void {
    grantPlatformKeys(fn.role, data, PLATFORM_KEY_PREFIXES[fn.serviceName] ?? [], 'indexQuery');
  }
}
