import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvironmentVariables } from '../../lambdas/composition/env-names';
import { ENV } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';
import type { ApprovalWorkflow } from './approval-workflow';
import { grantChatModels, grantTitanEmbeddings } from './bedrock-access';
import type { DataTableResources } from './data-table';
import { VISIBILITY_TIMEOUT_FACTOR } from './execution-queue';
import { HouseFunction } from './house-function';
import { grantOutbound, outboundEnvironment } from './outbound-access';
import type { TenantAccess } from './tenant-access';

/** Receives before an inbound message is dead-lettered: the first try and two retries. */
export const INBOUND_MAX_RECEIVE_COUNT = 3;
export const INBOUND_WORKER_ENTRY = 'lambdas/handlers/queue/inbound-worker.ts';
export const INBOUND_WORKER_SERVICE = 'inbound-worker';

export interface InboundQueueProps {
  readonly config: EnvironmentConfig;
  readonly data: DataTableResources;
  /** Where the worker publishes the billing events of the turns and replies it pays for. */
  readonly eventBus: IEventBus;
  /** The decision engine starts approvals for actions the agent proposes in a channel turn. */
  readonly approvalWorkflow: Pick<ApprovalWorkflow, 'stateMachine' | 'grantStart'>;
  /** The environment's tenant-access role: each turn runs with its tenant's credentials. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /**
   * A customer waits for the answer: one turn (model calls, tools) and one send.
   * @default 2 minutes
   */
  readonly workerTimeout?: Duration;
}

/**
 * Customer messages from every channel's webhook: a FIFO queue (message group = conversation, so a
 * conversation's messages run in order and others in parallel), its FIFO dead-letter queue, and
 * the worker that runs each turn and sends the reply (lambdas/handlers/queue/inbound-worker.ts).
 */
export class InboundQueue extends Construct {
  /** Where the webhooks Lambda queues messages (INBOUND_QUEUE_URL). */
  public readonly queue: Queue;
  /** Messages whose processing failed {@link INBOUND_MAX_RECEIVE_COUNT} times; kept 14 days. */
  public readonly deadLetterQueue: Queue;
  public readonly worker: HouseFunction;

  constructor(scope: Construct, id: string, props: InboundQueueProps) {
    super(scope, id);
    const { config } = props;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(2);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INBOUND_MAX_RECEIVE_COUNT },
    });

    const environment: EnvironmentVariables = {
      [ENV.EMBEDDER]: 'titan',
      [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
      // Inbound turns are admitted under the same per-tenant limits as chat turns.
      [ENV.TURN_RATE_LIMITS]: JSON.stringify(config.turnRateLimits),
      [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusName,
      [ENV.APPROVAL_STATE_MACHINE_ARN]: props.approvalWorkflow.stateMachine.stateMachineArn,
      ...outboundEnvironment(config),
      ...(config.publicBaseUrl ? { [ENV.PUBLIC_BASE_URL]: config.publicBaseUrl } : {}),
    };
    this.worker = new HouseFunction(this, 'Worker', {
      entry: INBOUND_WORKER_ENTRY,
      description: `Answers customer messages from every channel, in order per conversation (${config.stageName})`,
      serviceName: INBOUND_WORKER_SERVICE,
      config,
      timeout: workerTimeout,
      environment,
      table: { resources: props.data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
    });
    // The same runtime as chat: Titan for memory search, chat models, billing events, outbound
    // actions; the channel credentials it replies with are read with the tenant's credentials.
    grantTitanEmbeddings(this.worker.role);
    grantChatModels(this.worker.role);
    props.eventBus.grantPutEventsTo(this.worker.role);
    grantOutbound(this.worker.role, config);
    props.approvalWorkflow.grantStart(this.worker.role);

    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        // FIFO: Lambda hands one message group's messages in order; failures skip the rest of the group.
        batchSize: 10,
        reportBatchItemFailures: true,
      }),
    );
  }
}
