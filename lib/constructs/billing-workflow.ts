import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  type IWidget,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
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

const REPO_ROOT = path.join(__dirname, '../..');
const PERIOD = Duration.minutes(5);

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
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
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

    // Vended-logs prefix: Step Functions' log delivery then needs no resource policy per group.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: config.logRetentionDays,
      removalPolicy,
    });

    const substitutions: Record<string, string> = {};
    for (const [placeholder, step] of Object.entries(MONTHLY_BILLING_STEPS)) {
      substitutions[placeholder] = this.functions[step.name].function.functionArn;
    }
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      // The very file local mode runs (npm run billing:monthly); the ARNs go in by substitution.
      definitionBody: DefinitionBody.fromFile(path.join(REPO_ROOT, MONTHLY_BILLING_DEFINITION)),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The definition is a file, so CDK cannot derive the grants from it: invoke exactly the three
    // unqualified function ARNs the ASL names (no `:*` for versions and aliases, which it never uses).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(this.functions).map((fn) => fn.function.functionArn),
      }),
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the statements CDK adds for logging level ALL (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and for X-Ray tracing use Resource "*": neither CloudWatch Logs delivery nor X-Ray supports resource-level permissions for these actions. Lambda invocation is limited to the three step functions.',
    });

    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: `agent-platform-${config.stageName}-billing`,
      removalPolicy,
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

    const failed = this.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' });
    const timedOut = this.stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' });
    const dropped = this.scheduleGroup.metricDropped({ period: PERIOD, statistic: 'Sum' });
    this.alarms = [
      this.alarm('ExecutionsFailedAlarm', failed, `The monthly billing run failed (${config.stageName})`),
      this.alarm(
        'ExecutionsTimedOutAlarm',
        timedOut,
        `The monthly billing run hit its TimeoutSeconds (${config.stageName})`,
      ),
      this.alarm(
        'ScheduleDroppedAlarm',
        dropped,
        `The monthly billing schedule could not start the run; start it by hand with {"period":"YYYY-MM"} (${config.stageName})`,
      ),
    ];
  }

  /** The billing run's row on the dashboard. */
  public widgets(): IWidget[] {
    const metric = (m: Metric, label: string) => m.with({ period: PERIOD, statistic: 'Sum', label });
    return [
      new GraphWidget({
        title: 'Monthly billing runs',
        left: [
          metric(this.stateMachine.metricStarted(), 'Started'),
          metric(this.stateMachine.metricSucceeded(), 'Succeeded'),
          metric(this.stateMachine.metricFailed(), 'Failed'),
          metric(this.stateMachine.metricTimedOut(), 'Timed out'),
          metric(this.stateMachine.metricAborted(), 'Aborted'),
        ],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Monthly billing step errors',
        left: Object.entries(this.functions).map(([stepName, fn]) =>
          fn.function.metricErrors({ period: PERIOD, statistic: 'Sum', label: stepName }),
        ),
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Monthly billing schedule (target errors / dropped)',
        left: [
          metric(this.scheduleGroup.metricTargetErrors(), 'Target errors'),
          metric(this.scheduleGroup.metricDropped(), 'Dropped'),
        ],
        width: 8,
        height: 6,
      }),
    ];
  }

  private alarm(id: string, metric: Metric, description: string): Alarm {
    return new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
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
