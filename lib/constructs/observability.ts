import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AlarmNotifications } from './alarm-notifications';

const PERIOD = Duration.minutes(5);
/** A handful of 5xx in five minutes is an incident; a single one is usually a client racing a deploy. */
const API_5XX_THRESHOLD = 5;
/**
 * A queued execution still waiting after five minutes means the worker is behind (its concurrency
 * is capped) or the message is waiting out the visibility timeout after a failed attempt.
 */
export const EXECUTION_QUEUE_AGE_THRESHOLD_SECONDS = 300;

/** A queue that feeds a worker and the dead-letter queue its failed messages end up in. */
/** A customer is waiting on the other end: a minute is already long. */
export const INBOUND_QUEUE_AGE_THRESHOLD_SECONDS = 60;

export interface WorkQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface ObservabilityProps {
  /** Short environment name, used in the dashboard name and alarm descriptions. */
  readonly stageName: string;
  readonly httpApi: IHttpApi;
  /** Functions by a short display name (`agents`, `auth`, ...), each getting an error alarm and a dashboard line. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Names among `functions` whose error alarm lives in their own stack: dashboard lines only. */
  readonly functionsAlarmedElsewhere?: readonly string[];
  readonly table: ITableV2;
  /** The table's global secondary indexes, whose throttling is reported separately from the table's. */
  readonly indexNames: readonly string[];
  /** The async execution queue: alarms on dead-lettered messages and on messages left waiting. */
  readonly executionQueue: WorkQueue;
  /** The inbound messages' FIFO queue: alarms on dead-lettered messages and on customers left waiting. */
  readonly inboundQueue?: WorkQueue;
  /**
   * On-failure queues of asynchronously invoked functions, by the function's display name: any
   * message in one is an event that failed every attempt.
   */
  readonly failedInvocationQueues?: Readonly<Record<string, IQueue>>;
  /** Where every alarm goes (the stateful stack's alarm topic and the operator's topics). */
  readonly notifications: Pick<AlarmNotifications, 'notify'>;
}

/**
 * One dashboard and the alarms worth waking up for: API 5xx, Lambda errors per function, DynamoDB
 * throttling, dead-lettered executions, executions left waiting and asynchronous invocations that
 * failed every attempt, all notifying the stateful stack's alarm topic (and the operator's topics).
 */
export class Observability extends Construct {
  public readonly dashboard: Dashboard;
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);

    const api5xx = props.httpApi.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const api4xx = props.httpApi.metricClientError({ period: PERIOD, statistic: 'Sum' });
    const apiCount = props.httpApi.metricCount({ period: PERIOD, statistic: 'Sum' });
    const apiLatencyP99 = props.httpApi.metricLatency({ period: PERIOD, statistic: 'p99' });
    const apiIntegrationP99 = props.httpApi.metricIntegrationLatency({ period: PERIOD, statistic: 'p99' });

    const functions = Object.entries(props.functions);
    const errors = functions.map(([name, fn]) =>
      fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: name }),
    );
    const durations = functions.map(([name, fn]) =>
      fn.metricDuration({ period: PERIOD, statistic: 'p99', label: `${name} p99` }),
    );
    const throttles = functions.map(([name, fn]) =>
      fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: name }),
    );

    const tableThrottles = this.throttleEvents(props.table, props.indexNames);

    const { queue, deadLetterQueue } = props.executionQueue;
    const queueVisible = queue.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: 'Maximum',
      label: 'Waiting',
    });
    const queueInFlight = queue.metricApproximateNumberOfMessagesNotVisible({
      period: PERIOD,
      statistic: 'Maximum',
      label: 'In flight',
    });
    const queueOldestAge = queue.metricApproximateAgeOfOldestMessage({
      period: PERIOD,
      statistic: 'Maximum',
    });
    const deadLettered = deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: 'Maximum',
    });

    const alarms: Alarm[] = [];
    alarms.push(
      new Alarm(this, 'Api5xxAlarm', {
        alarmDescription: `HTTP API returned ${API_5XX_THRESHOLD}+ server errors in 5 minutes (${props.stageName})`,
        metric: api5xx,
        threshold: API_5XX_THRESHOLD,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    for (const [name, fn] of functions) {
      if (!props.functionsAlarmedElsewhere?.includes(name)) {
        alarms.push(functionErrorsAlarm(this, name, fn, props.stageName));
      }
    }
    alarms.push(
      new Alarm(this, 'TableThrottleAlarm', {
        alarmDescription: `DynamoDB throttled requests on the data table or its indexes (${props.stageName})`,
        metric: tableThrottles,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarms.push(
      new Alarm(this, 'ExecutionDeadLetterAlarm', {
        alarmDescription: `Queued executions failed every attempt and are in the dead-letter queue (${props.stageName})`,
        metric: deadLettered,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        // An idle, empty queue reports nothing; a queue holding messages always reports.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'ExecutionQueueAgeAlarm', {
        alarmDescription: `A queued execution has waited more than ${EXECUTION_QUEUE_AGE_THRESHOLD_SECONDS} s (${props.stageName})`,
        metric: queueOldestAge,
        threshold: EXECUTION_QUEUE_AGE_THRESHOLD_SECONDS,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    if (props.inboundQueue) {
      alarms.push(
        new Alarm(this, 'InboundDeadLetterAlarm', {
          alarmDescription: `Customer messages failed every attempt and are in the inbound dead-letter queue: their senders got no answer (${props.stageName})`,
          metric: props.inboundQueue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
          }),
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        new Alarm(this, 'InboundQueueAgeAlarm', {
          alarmDescription: `A customer message has waited more than ${INBOUND_QUEUE_AGE_THRESHOLD_SECONDS} s for its turn (${props.stageName})`,
          metric: props.inboundQueue.queue.metricApproximateAgeOfOldestMessage({
            period: PERIOD,
            statistic: 'Maximum',
          }),
          threshold: INBOUND_QUEUE_AGE_THRESHOLD_SECONDS,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    const failedInvocations = Object.entries(props.failedInvocationQueues ?? {}).map(([name, failures]) => {
      const waiting = failures.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: 'Maximum',
        label: name,
      });
      alarms.push(
        new Alarm(this, `${name}-FailedInvocationsAlarm`, {
          alarmDescription: `An asynchronous invocation of Lambda ${name} failed every attempt and is in its on-failure queue (${props.stageName})`,
          metric: failures.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      return waiting;
    });
    props.notifications.notify(alarms);
    this.alarms = alarms;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `agent-platform-${props.stageName}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }));
    this.dashboard.addWidgets(
      graph('API requests', [apiCount]),
      graph('API errors (4xx / 5xx)', [api4xx, api5xx]),
      graph('API latency p99 (total / integration)', [apiLatencyP99, apiIntegrationP99]),
    );
    this.dashboard.addWidgets(
      graph('Lambda errors', errors),
      graph('Lambda duration p99', durations),
      graph('Lambda throttles', throttles),
    );
    this.dashboard.addWidgets(
      graph('DynamoDB throttle events (table + indexes)', [tableThrottles]),
      graph('DynamoDB consumed read units', [
        props.table.metricConsumedReadCapacityUnits({ period: PERIOD, statistic: 'Sum' }),
      ]),
      graph('DynamoDB consumed write units', [
        props.table.metricConsumedWriteCapacityUnits({ period: PERIOD, statistic: 'Sum' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Execution queue messages (waiting / in flight)', [queueVisible, queueInFlight]),
      graph('Execution queue oldest message age (s)', [queueOldestAge]),
      graph('Dead-lettered executions', [deadLettered]),
    );
    if (failedInvocations.length > 0) {
      this.dashboard.addWidgets(graph('Failed asynchronous invocations', failedInvocations));
    }
  }

  /**
   * Read and write throttle events of the table and of every index, summed. These two metrics
   * cover every operation, where `ThrottledRequests` would need one metric per operation.
   */
  private throttleEvents(table: ITableV2, indexNames: readonly string[]): MathExpression {
    const usingMetrics: Record<string, IMetric> = {};
    const add = (metric: Metric) => {
      usingMetrics[`m${Object.keys(usingMetrics).length}`] = metric;
    };
    for (const name of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
      add(table.metric(name, { period: PERIOD, statistic: 'Sum' }));
      for (const indexName of indexNames) {
        add(
          table.metric(name, {
            period: PERIOD,
            statistic: 'Sum',
            dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: indexName },
          }),
        );
      }
    }
    return new MathExpression({
      expression: Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(' + '),
      usingMetrics,
      period: PERIOD,
      label: 'Throttle events',
    });
  }
}

/** `<name>-ErrorsAlarm`: any failed invocation of the function within five minutes. */
export function functionErrorsAlarm(scope: Construct, name: string, fn: IFunction, stageName: string): Alarm {
  return new Alarm(scope, `${name}-ErrorsAlarm`, {
    alarmDescription: `Lambda ${name} failed an invocation (${stageName})`,
    // Unlabelled, so the alarm is a plain metric alarm rather than a one-metric expression.
    metric: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

function graph(title: string, left: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left, width: 8, height: 6 });
}
