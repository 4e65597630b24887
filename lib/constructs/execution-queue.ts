import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/composition/env-names';
import { ConfigError, type EnvironmentConfig } from '../config';
import { grantChatModels, grantTitanEmbeddings } from './bedrock-access';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import type { TenantAccess } from './tenant-access';

/** Receives before a message is dead-lettered: the first try and two retries. */
export const EXECUTION_MAX_RECEIVE_COUNT = 3;
/**
 * SQS recommends a visibility timeout of at least six times the consuming function's timeout, so
 * that Lambda's own retries of a throttled or failed batch do not make a message visible again
 * while it is still being worked on.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** The worker's handler module, relative to the repository root. */
export const EXECUTION_WORKER_ENTRY = 'lambdas/handlers/queue/execution-worker.ts';
/** The worker's service name, and its key in `lambda.reservedConcurrency`. */
export const EXECUTION_WORKER_SERVICE = 'execution-worker';

export interface ExecutionQueueProps {
  /** Stage, log settings, memory and the token costs the worker bills with come from here. */
  readonly config: EnvironmentConfig;
  /** The data table; the worker reads the execution and its agent and writes the results. */
  readonly data: DataTableResources;
  /** Where the worker publishes the billing events of the model calls it pays for. */
  readonly eventBus: IEventBus;
  /** The environment's tenant-access role, which the worker may assume to serve a tenant. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /**
   * How long one invocation of the worker may run. An execution may take several model calls and
   * tool rounds, and no HTTP integration waits for it, so it is not bound by the API's 29 s.
   * @default 5 minutes
   */
  readonly workerTimeout?: Duration;
  /**
   * Messages handed to one worker invocation; each is reported on its own if it fails.
   * @default 5
   */
  readonly batchSize?: number;
  /**
   * The most worker instances the queue may keep busy, which bounds the load that async
   * executions put on Bedrock quotas and the table however many are queued.
   * @default the worker's reserved concurrency (`lambda.reservedConcurrency['execution-worker']`), else 10
   */
  readonly maxConcurrency?: number;
}

/**
 * Async executions: the runtime Lambda sends `{ tenantId, executionId }` to the queue, the worker
 * Lambda runs the execution, and a message that fails three times moves to the dead-letter queue
 * (which the observability construct alarms on).
 */
export class ExecutionQueue extends Construct {
  /** Where the runtime Lambda sends executions to run (EXECUTION_QUEUE_URL). */
  public readonly queue: Queue;
  /** Executions whose processing failed {@link EXECUTION_MAX_RECEIVE_COUNT} times; kept 14 days for inspection and redrive. */
  public readonly deadLetterQueue: Queue;
  /** The Lambda that consumes the queue and runs the executions. */
  public readonly worker: HouseFunction;

  constructor(scope: Construct, id: string, props: ExecutionQueueProps) {
    super(scope, id);
    const { config } = props;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(5);
    const reserved = config.lambda.reservedConcurrency[EXECUTION_WORKER_SERVICE];
    // Never above the reservation: Lambda would throttle the polled batches, which then come back
    // after the visibility timeout and may be dead-lettered without ever having failed.
    const maxConcurrency = props.maxConcurrency ?? reserved ?? 10;
    if (reserved !== undefined && (reserved < 2 || maxConcurrency > reserved)) {
      throw new ConfigError(
        `lambda.reservedConcurrency.${EXECUTION_WORKER_SERVICE} is ${reserved}: it must be at least 2 (the SQS event source's least maximum concurrency) and at least the queue's maximum concurrency (${maxConcurrency})`,
      );
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: EXECUTION_MAX_RECEIVE_COUNT },
    });

    this.worker = new HouseFunction(this, 'Worker', {
      entry: EXECUTION_WORKER_ENTRY,
      description: `Runs queued agent task executions (${config.stageName})`,
      serviceName: EXECUTION_WORKER_SERVICE,
      config,
      timeout: workerTimeout,
      // The worker runs the same runtime code as the runtime Lambda: Titan for memory search,
      // the token prices for billing model calls.
      environment: {
        [ENV.EMBEDDER]: 'titan',
        [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
        [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusName,
      },
      table: { resources: props.data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
    });
    grantTitanEmbeddings(this.worker.role);
    grantChatModels(this.worker.role);
    props.eventBus.grantPutEventsTo(this.worker.role);

    // Grants the worker what consuming needs (receive, delete, change visibility) on this queue only.
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 5,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
  }
}
