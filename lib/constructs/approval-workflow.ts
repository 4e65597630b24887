import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  type IWidget,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  APPROVAL_DEFINITION,
  APPROVAL_STEP_FUNCTION,
} from '../../lambdas/handlers/workflow/approval-definition';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { grantOutbound, outboundEnvironment } from './outbound-access';

const REPO_ROOT = path.join(__dirname, '../..');
const PERIOD = Duration.minutes(5);

/**
 * The step Lambda's own timeout. Every Task of the ASL has a TimeoutSeconds above it (60 s, 90 s
 * for ExecuteAction), so a step that hangs is ended by Lambda before Step Functions gives up.
 */
export const APPROVAL_STEP_TIMEOUT = Duration.seconds(50);

/** What resumes a waiting approval: SendTaskSuccess (decisions), SendTaskHeartbeat; Failure for completeness. */
export const TASK_RESPONSE_ACTIONS = [
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
  'states:SendTaskSuccess',
] as const;

export function approvalStateMachineName(stageName: string): string {
  return `agent-platform-${stageName}-approval`;
}

export interface ApprovalWorkflowProps {
  /** Stage, log retention, Lambda defaults, token costs and the outbound settings come from here. */
  readonly config: EnvironmentConfig;
  readonly data: DataTableResources;
  /** Where `approval.*`, `action.*`, `tokens.*` and `coordinator.notified` go. */
  readonly eventBus: IEventBus;
}

/**
 * Action approvals (DESIGN §3.6): the Standard state machine defined by
 * statemachines/approval.asl.json and its one step Lambda, which records the request, notifies
 * the coordinators, stores the task token the machine waits on, and then executes or closes the
 * action. The decision engine starts it (`states:StartExecution`) and the approvals API resumes
 * it (`states:SendTaskSuccess`): `grantStart` and `grantTaskResponse` give those Lambdas that,
 * and APPROVAL_STATE_MACHINE_ARN tells them which machine.
 */
export class ApprovalWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  public readonly stepFunction: HouseFunction;
  /** Not yet wired to a topic: the stack hands them to the observability construct's topic. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ApprovalWorkflowProps) {
    super(scope, id);
    const { config, data, eventBus } = props;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const name = approvalStateMachineName(config.stageName);
    // Known before the machine exists: the step Lambda needs it (its wait step may resume the
    // machine itself), while the machine's definition needs the Lambda's ARN — a reference both
    // ways would be a circular dependency.
    const machineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.stepFunction = new HouseFunction(this, 'StepFunction', {
      entry: APPROVAL_STEP_FUNCTION.entry,
      description: `Approval workflow steps: record, notify, wait, check, execute, close (${config.stageName})`,
      serviceName: 'approval-step',
      config,
      timeout: APPROVAL_STEP_TIMEOUT,
      environment: {
        TOKEN_COSTS: JSON.stringify(config.tokenCosts),
        EVENT_BUS_NAME: eventBus.eventBusName,
        APPROVAL_STATE_MACHINE_ARN: machineArn,
        ...outboundEnvironment(config),
      },
      table: { resources: data, access: 'readWrite' },
    });
    const stepRole = this.stepFunction.role;
    // PutEvents on this bus only (not grantPutEventsTo's wider reach).
    stepRole.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
      }),
    );
    // The wait step resumes the machine at once when the approval was decided before its token was stored.
    stepRole.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...TASK_RESPONSE_ACTIONS],
        resources: [machineArn],
      }),
    );
    // The execute step runs the approved action: SES, Connect, the tenants' provider secrets.
    grantOutbound(stepRole, config);

    // Vended-logs prefix: Step Functions' log delivery then needs no resource policy per group.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: config.logRetentionDays,
      removalPolicy,
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      // The very file local mode runs (local/approval-workflow.ts); the ARN goes in by substitution.
      definitionBody: DefinitionBody.fromFile(path.join(REPO_ROOT, APPROVAL_DEFINITION)),
      definitionSubstitutions: {
        [APPROVAL_STEP_FUNCTION.placeholder]: this.stepFunction.function.functionArn,
      },
      // Execution data holds ids and outcomes only; the task token stays in the table (and the
      // history, which only this account's operators can read).
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The definition is a file, so CDK cannot derive the grant from it: invoke exactly the step
    // function, unqualified (no `:*` for versions and aliases, which it never uses).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [this.stepFunction.function.functionArn],
      }),
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the statements CDK adds for logging level ALL (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and for X-Ray tracing use Resource "*": neither CloudWatch Logs delivery nor X-Ray supports resource-level permissions for these actions. Lambda invocation is limited to the approval step function.',
    });

    const failed = this.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' });
    const timedOut = this.stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' });
    this.alarms = [
      this.alarm(
        'ExecutionsFailedAlarm',
        failed,
        `An approval workflow failed; its action was closed as failed and its tokens released (${config.stageName})`,
      ),
      this.alarm(
        'ExecutionsTimedOutAlarm',
        timedOut,
        `An approval workflow hit its TimeoutSeconds; its action may still hold tokens until housekeeping (${config.stageName})`,
      ),
    ];
  }

  /** StartExecution on this machine: for the Lambdas that decide actions. */
  public grantStart(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
  }

  /** SendTaskSuccess/Failure/Heartbeat on this machine's tasks: for the Lambdas that decide approvals. */
  public grantTaskResponse(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...TASK_RESPONSE_ACTIONS],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
  }

  /** The approvals' row on the dashboard. */
  public widgets(): IWidget[] {
    const metric = (m: Metric, label: string) => m.with({ period: PERIOD, statistic: 'Sum', label });
    return [
      new GraphWidget({
        title: 'Approval workflows',
        left: [
          metric(this.stateMachine.metricStarted(), 'Started'),
          metric(this.stateMachine.metricSucceeded(), 'Succeeded'),
          metric(this.stateMachine.metricFailed(), 'Failed'),
          metric(this.stateMachine.metricTimedOut(), 'Timed out'),
          metric(this.stateMachine.metricAborted(), 'Aborted'),
        ],
        width: 12,
        height: 6,
      }),
      new GraphWidget({
        title: 'Approval step errors',
        left: [
          this.stepFunction.function.metricErrors({
            period: PERIOD,
            statistic: 'Sum',
            label: 'approval-step',
          }),
        ],
        width: 12,
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
}
