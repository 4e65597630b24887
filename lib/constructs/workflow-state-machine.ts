import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { HouseFunction } from './house-function';

const REPO_ROOT = path.join(__dirname, '../..');

/** The period of the workflows' alarms and dashboard metrics. */
export const WORKFLOW_METRIC_PERIOD = Duration.minutes(5);

export interface WorkflowStateMachineProps {
  readonly config: EnvironmentConfig;
  readonly stateMachineName: string;
  /** The ASL file, relative to the repository root: the very file local mode runs. */
  readonly definitionFile: string;
  /** Each DefinitionSubstitutions placeholder of the ASL and the step Lambda whose ARN it stands for. */
  readonly steps: Readonly<Record<string, HouseFunction>>;
  /** The step Lambdas as the cdk-nag acknowledgement names them ("the approval step function"). */
  readonly stepsDescription: string;
  /** Other DefinitionSubstitutions (e.g. the ARN of a machine it starts); the grants are the caller's. */
  readonly substitutions?: Readonly<Record<string, string>>;
}

/**
 * A Standard state machine built from an ASL file whose Task Resources are step Lambdas put in by
 * substitution, with its log group (`LogGroup`, all levels, execution data included) and X-Ray
 * tracing, created in `scope` as `LogGroup` and `StateMachine`. The machine's role may invoke
 * exactly those Lambdas; the `Resource::*` that logging and tracing need is acknowledged.
 */
export function workflowStateMachine(
  scope: Construct,
  props: WorkflowStateMachineProps,
): { readonly stateMachine: StateMachine; readonly logGroup: LogGroup } {
  const { config, stateMachineName } = props;
  // Vended-logs prefix: Step Functions' log delivery then needs no resource policy per group.
  const logGroup = new LogGroup(scope, 'LogGroup', {
    logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
    retention: config.logRetentionDays,
    removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });

  const definitionSubstitutions: Record<string, string> = { ...props.substitutions };
  for (const [placeholder, step] of Object.entries(props.steps)) {
    definitionSubstitutions[placeholder] = step.function.functionArn;
  }
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    stateMachineName,
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromFile(path.join(REPO_ROOT, props.definitionFile)),
    definitionSubstitutions,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    tracingEnabled: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // The definition is a file, so CDK cannot derive the grants from it: invoke exactly the
  // unqualified function ARNs the ASL names (no `:*` for versions and aliases, which it never uses).
  stateMachine.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['lambda:InvokeFunction'],
      resources: [...new Set(Object.values(props.steps))].map((step) => step.function.functionArn),
    }),
  );
  Validations.of(stateMachine.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `Only the statements CDK adds for logging level ALL (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and for X-Ray tracing use Resource "*": neither CloudWatch Logs delivery nor X-Ray supports resource-level permissions for these actions. Lambda invocation is limited to ${props.stepsDescription}.`,
  });
  return { stateMachine, logGroup };
}

/** An alarm on any occurrence (a Sum of 1 or more) within one period; no data is no alarm. */
export function occurrenceAlarm(scope: Construct, id: string, metric: Metric, description: string): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

/** Alarms `ExecutionsFailedAlarm` and `ExecutionsTimedOutAlarm` on the machine's executions. */
export function executionAlarms(
  scope: Construct,
  stateMachine: StateMachine,
  descriptions: { readonly failed: string; readonly timedOut: string },
): Alarm[] {
  const sum = { period: WORKFLOW_METRIC_PERIOD, statistic: 'Sum' };
  return [
    occurrenceAlarm(scope, 'ExecutionsFailedAlarm', stateMachine.metricFailed(sum), descriptions.failed),
    occurrenceAlarm(
      scope,
      'ExecutionsTimedOutAlarm',
      stateMachine.metricTimedOut(sum),
      descriptions.timedOut,
    ),
  ];
}

/** A metric as a Sum over the dashboard's period, under `label`. */
export function summed(metric: Metric, label: string): Metric {
  return metric.with({ period: WORKFLOW_METRIC_PERIOD, statistic: 'Sum', label });
}

/** The dashboard graph of the machine's executions: started, succeeded, failed, timed out, aborted. */
export function executionsWidget(stateMachine: StateMachine, title: string, width: number): GraphWidget {
  return new GraphWidget({
    title,
    left: [
      summed(stateMachine.metricStarted(), 'Started'),
      summed(stateMachine.metricSucceeded(), 'Succeeded'),
      summed(stateMachine.metricFailed(), 'Failed'),
      summed(stateMachine.metricTimedOut(), 'Timed out'),
      summed(stateMachine.metricAborted(), 'Aborted'),
    ],
    width,
    height: 6,
  });
}
