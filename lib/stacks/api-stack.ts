import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from '../constructs/data-table';
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

/** The stateless side: HTTP Lambdas, the HTTP API in front of them, and their dashboard and alarms. */
export class ApiStack extends Stack {
  public readonly api: PlatformHttpApi;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.api = new PlatformHttpApi(this, 'Http', {
      config,
      data: props.data,
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      issuerUrl: props.issuerUrl,
    });

    this.observability = new Observability(this, 'Observability', {
      stageName: config.stageName,
      httpApi: this.api.httpApi,
      functions: Object.fromEntries(
        Object.entries(this.api.functions).map(([name, fn]) => [name, fn.function]),
      ),
      table: props.data.table,
      indexNames: props.data.indexNames,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });
  }
}
