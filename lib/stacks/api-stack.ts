import { Stack, type StackProps } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { ApprovalWorkflow } from '../constructs/approval-workflow';
import { BillingWorkflow } from '../constructs/billing-workflow';
import type { DataTableResources } from '../constructs/data-table';
import { ExecutionQueue } from '../constructs/execution-queue';
import { PlatformHttpApi } from '../constructs/http-api';
import { Observability } from '../constructs/observability';
import { ReservationHousekeeping } from '../constructs/reservation-housekeeping';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The stateful stack's table; the API stack only ever receives grants on it. */
  readonly data: DataTableResources;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** JWT issuer of the user pool's tokens. */
  readonly issuerUrl: string;
  /** The stateful stack's domain event bus. */
  readonly eventBus: IEventBus;
}

/**
 * The compute side: HTTP Lambdas and the HTTP API in front of them, the async execution queue and
 * its worker, and their dashboard and alarms.
 */
export class ApiStack extends Stack {
  /** The async execution queue, its dead-letter queue and the worker Lambda. */
  public readonly executions: ExecutionQueue;
  public readonly api: PlatformHttpApi;
  /** Action approvals: state machine and its step Lambda. */
  public readonly approvals: ApprovalWorkflow;
  /** The monthly fee run: state machine, step Lambdas, schedule. */
  public readonly billing: BillingWorkflow;
  /** The scheduled release of token reservations whose hold ran out. */
  public readonly housekeeping: ReservationHousekeeping;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.executions = new ExecutionQueue(this, 'Executions', {
      config,
      data: props.data,
      eventBus: props.eventBus,
    });

    // Before the HTTP API: the Lambdas that decide actions start it and resume it.
    this.approvals = new ApprovalWorkflow(this, 'Approvals', {
      config,
      data: props.data,
      eventBus: props.eventBus,
    });

    this.api = new PlatformHttpApi(this, 'Http', {
      config,
      data: props.data,
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      issuerUrl: props.issuerUrl,
      executionQueue: this.executions.queue,
      eventBus: props.eventBus,
      approvalWorkflow: this.approvals,
    });

    this.housekeeping = new ReservationHousekeeping(this, 'ReservationHousekeeping', {
      config,
      data: props.data,
      eventBus: props.eventBus,
    });

    this.billing = new BillingWorkflow(this, 'MonthlyBilling', {
      config,
      data: props.data,
      eventBus: props.eventBus,
    });

    this.observability = new Observability(this, 'Observability', {
      stageName: config.stageName,
      httpApi: this.api.httpApi,
      functions: {
        ...Object.fromEntries(Object.entries(this.api.functions).map(([name, fn]) => [name, fn.function])),
        'execution-worker': this.executions.worker.function,
        'reservation-housekeeping': this.housekeeping.function.function,
        'approval-step': this.approvals.stepFunction.function,
        ...Object.fromEntries(
          Object.entries(this.billing.functions).map(([name, fn]) => [`billing-${name}`, fn.function]),
        ),
      },
      executionQueue: this.executions,
      table: props.data.table,
      indexNames: props.data.indexNames,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });

    // The billing run's and the approvals' alarms notify the same topic, and their rows join the dashboard.
    const notify = new SnsAction(this.observability.alarmTopic);
    for (const alarm of [...this.billing.alarms, ...this.approvals.alarms]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
    this.observability.dashboard.addWidgets(...this.billing.widgets());
    this.observability.dashboard.addWidgets(...this.approvals.widgets());
  }
}
