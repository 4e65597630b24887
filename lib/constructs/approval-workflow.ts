import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { type Alarm, GraphWidget, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/composition/env-names';
import {
  APPROVAL_DEFINITION,
  APPROVAL_STEP_FUNCTION,
} from '../../lambdas/handlers/workflow/approval-definition';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { grantOutbound, outboundEnvironment } from './outbound-access';
import type { TenantAccess } from './tenant-access';
import { websocketCallbackParameterName } from './websocket-api';
import {
  executionAlarms,
  executionsWidget,
  WORKFLOW_METRIC_PERIOD,
  workflowStateMachine,
} from './workflow-state-machine';

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
  /** The environment's tenant-access role, which the step Lambda may assume to serve a tenant. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
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
        [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
        [ENV.EVENT_BUS_NAME]: eventBus.eventBusName,
        [ENV.APPROVAL_STATE_MACHINE_ARN]: machineArn,
        // approval_decided to WebSocket subscribers: the API stack (deployed after this one) writes
        // the callback URL there and grants reading it and posting to connections.
        [ENV.WEBSOCKET_CALLBACK_URL_PARAMETER]: websocketCallbackParameterName(config.stageName),
        ...outboundEnvironment(config),
      },
      table: { resources: data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
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

    // The very file local mode runs (local/approval-workflow.ts); the ARN goes in by substitution.
    // Execution data holds ids and outcomes only; the task token stays in the table (and the
    // history, which only this account's operators can read).
    const workflow = workflowStateMachine(this, {
      config,
      stateMachineName: name,
      definitionFile: APPROVAL_DEFINITION,
      steps: { [APPROVAL_STEP_FUNCTION.placeholder]: this.stepFunction },
      stepsDescription: 'the approval step function',
    });
    this.stateMachine = workflow.stateMachine;
    this.logGroup = workflow.logGroup;

    this.alarms = executionAlarms(this, this.stateMachine, {
      failed: `An approval workflow failed; its action was closed as failed and its tokens released (${config.stageName})`,
      timedOut: `An approval workflow hit its TimeoutSeconds; its action may still hold tokens until housekeeping (${config.stageName})`,
    });
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
    return [
      executionsWidget(this.stateMachine, 'Approval workflows', 12),
      new GraphWidget({
        title: 'Approval step errors',
        left: [
          this.stepFunction.function.metricErrors({
            period: WORKFLOW_METRIC_PERIOD,
            statistic: 'Sum',
            label: 'approval-step',
          }),
        ],
        width: 12,
        height: 6,
      }),
    ];
  }
}
