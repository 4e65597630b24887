import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ISource } from 'aws-cdk-lib/aws-s3-deployment';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { consoleSource } from '../console-build';
import { ConsoleHosting, consoleUrlParameterName } from '../constructs/console-hosting';

export interface ConsoleStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The API stack's HTTP API: the distribution's origin for `/v1/*` (its `$default` stage). */
  readonly httpApi: Pick<IHttpApi, 'apiId'>;
  /** The API stack's origin-verify secret (its ARN), which CloudFront sends to the API. */
  readonly originVerifySecretArn: string;
  /** The API stack's WebSocket API stage URL (`wss://…/live`). */
  readonly webSocketUrl: string;
  /** @default the console built from console/ while assets are bundled (lib/console-build.ts) */
  readonly content?: ISource;
}

/**
 * The web console and the chat widget (`/widget.js`) on S3 behind CloudFront, with the HTTP API
 * as the distribution's second origin at `/v1/*`. It refers to the API stack (weakly, like every
 * cross-stack reference here), so it is deployed after it; nothing refers to it.
 */
export class ConsoleStack extends Stack {
  public readonly hosting: ConsoleHosting;
  /** `https://<distribution>.cloudfront.net`: the console, its `/v1/*` the API. */
  public readonly url: string;
  /** {@link url} under {@link consoleUrlParameterName}: the billing Lambda reads it (token purchases). */
  public readonly urlParameter: StringParameter;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    this.hosting = new ConsoleHosting(this, 'Console', {
      content: props.content ?? consoleSource(),
      // The `$default` stage's host: `/v1/agents` on the distribution is `/v1/agents` on the API.
      apiDomainName: `${props.httpApi.apiId}.execute-api.${this.region}.${Aws.URL_SUFFIX}`,
      originVerifySecretArn: props.originVerifySecretArn,
      wsUrl: props.webSocketUrl,
      removalPolicy: props.config.removalPolicy,
      logRetentionDays: props.config.logRetentionDays,
    });
    this.url = `https://${this.hosting.distribution.distributionDomainName}`;
    // The API stack cannot refer to this one (a cycle): its billing Lambda reads the console's
    // address here, to let Stripe Checkout send buyers back to it.
    this.urlParameter = new StringParameter(this, 'ConsoleUrlParameter', {
      parameterName: consoleUrlParameterName(props.config.stageName),
      description: `The hosted web console's URL (${props.config.stageName})`,
      stringValue: this.url,
    });
    new CfnOutput(this, 'ConsoleUrl', {
      value: this.url,
      description: 'The web console (sign in or register here); the chat widget is <ConsoleUrl>/widget.js',
    });
  }
}
