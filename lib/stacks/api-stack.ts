import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from '../constructs/data-table';
import { ExecutionQueue } from '../constructs/execution-queue';
import { PlatformHttpApi } from '../constructs/http-api';
import { Observability } from '../constructs/observability';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The stateful stack's table; the API stack only ever receives grants on it. */
  readonly data: DataTableResources;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** JWT issuer of the user pool's tokens. */
  readonly issuerUrl: string;
}

/**
 * The compute side: HTTP Lambdas and the HTTP API in front of them, the async execution queue and
 * its worker, and their dashboard and alarms.
 */
export class ApiStack extends Stack {
  /** The async execution queue, its dead-letter queue and the worker Lambda. */
  public readonly executions: ExecutionQueue;
  public readonly api: PlatformHttpApi;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.executions = new ExecutionQueue(this, 'Executions', { config, data: props.data });

    this.api = new PlatformHttpApi(this, 'Http', {
      config,
      data: props.data,
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      issuerUrl: props.issuerUrl,
      executionQueue: this.executions.queue,
    });

    this.observability = new Observability(this, 'Observability', {
      stageName: config.stageName,
      httpApi: this.api.httpApi,
      functions: {
        ...Object.fromEntries(Object.entries(this.api.functions).map(([name, fn]) => [name, fn.function])),
        'execution-worker': this.executions.worker.function,
      },
      executionQueue: this.executions,
      table: props.data.table,
      indexNames: props.data.indexNames,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });
  }
}
