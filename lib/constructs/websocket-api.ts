import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type CfnStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import { CLIENT_ACTIONS } from '../../lambdas/domain/realtime/protocol';
import type { EnvironmentConfig } from '../config';
import type { AlarmNotifications } from './alarm-notifications';
import type { ApprovalWorkflow } from './approval-workflow';
import { grantChatModels, grantTitanEmbeddings } from './bedrock-access';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { grantOutbound, nagFinding, outboundEnvironment, tenantSecretsPrefix } from './outbound-access';
import type { TenantAccess } from './tenant-access';

/** Service names (and so PLATFORM_KEY_PREFIXES keys and reserved-concurrency keys) of the WebSocket Lambdas. */
export const WEBSOCKET_SERVICES = {
  authorizer: 'ws-authorizer',
  connection: 'ws-connection',
  messages: 'ws-messages',
} as const;

/** The handler modules, by service name (the bundle tests build each). */
export const WEBSOCKET_ENTRIES = {
  [WEBSOCKET_SERVICES.authorizer]: 'lambdas/handlers/websocket/authorizer.ts',
  [WEBSOCKET_SERVICES.connection]: 'lambdas/handlers/websocket/connection.ts',
  [WEBSOCKET_SERVICES.messages]: 'lambdas/handlers/websocket/messages.ts',
} as const;

/** Integration errors (the route Lambdas failing) in 5 minutes that page someone. */
export const WEBSOCKET_INTEGRATION_ERROR_THRESHOLD = 5;

/**
 * The SSM parameter (a fixed name per stage) holding the callback URL, for the functions that
 * publish turn events but live in a stack deployed before this one (the approval workflow's step
 * Lambda): they cannot get the URL as a stack reference, so they read it once at cold start.
 */
export function websocketCallbackParameterName(stageName: string): string {
  return `/agent-platform/${stageName}/websocket-callback-url`;
}

export interface PlatformWebSocketApiProps {
  readonly config: EnvironmentConfig;
  /** The data table: connections, subscriptions, and everything a turn touches. */
  readonly data: DataTableResources;
  /** The tenant-access role every WebSocket Lambda assumes for the tenant the authorizer proved. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /** The pool whose ID tokens `$connect` accepts (verified with aws-jwt-verify in the authorizer). */
  readonly userPool: IUserPool;
  /** The app client: the ID tokens' audience. */
  readonly userPoolClient: IUserPoolClient;
  /** `send_message` runs turns as the runtime Lambda does: its async executions go here. */
  readonly executionQueue: IQueue;
  /** Billing events of the turns' model calls. */
  readonly eventBus: IEventBus;
  /** Actions a turn proposes that wait for approval start this workflow. */
  readonly approvalWorkflow: Pick<ApprovalWorkflow, 'stateMachine' | 'grantStart' | 'grantTaskResponse'>;
  /** The alarm topic(s) the API's alarms notify. */
  readonly notifications: Pick<AlarmNotifications, 'notify'>;
}

/**
 * The real-time API (issue 14): an API Gateway WebSocket API routed on `$request.body.action`,
 * its `$connect` guarded by a Lambda REQUEST authorizer (WebSocket APIs have no JWT authorizer),
 * `$connect`/`$disconnect` recording connections, and one message Lambda for every client action
 * and `$default`. Only the message Lambda may post to connections (`execute-api:ManageConnections`
 * on this API alone); turn events reach subscribers from it.
 */
export class PlatformWebSocketApi extends Construct {
  public readonly api: WebSocketApi;
  public readonly stage: WebSocketStage;
  /** `wss://…/<stage>`: where clients connect (with `?token=` or `?key=`). */
  public readonly url: string;
  /** `https://…/<stage>`: the connection management endpoint (WEBSOCKET_CALLBACK_URL). */
  public readonly callbackUrl: string;
  public readonly authorizerFunction: HouseFunction;
  public readonly connectionFunction: HouseFunction;
  public readonly messageFunction: HouseFunction;
  public readonly accessLogGroup: LogGroup;
  public readonly alarms: readonly Alarm[];
  /** The only `execute-api:ManageConnections` resource granted (the message Lambda's). */
  public readonly manageConnectionsArn: string;
  /** The callback URL under {@link websocketCallbackParameterName}, for functions of earlier stacks. */
  public readonly callbackUrlParameter: StringParameter;

  constructor(scope: Construct, id: string, props: PlatformWebSocketApiProps) {
    super(scope, id);
    const { config } = props;
    const table = { resources: props.data, access: 'readWrite' as const };
    const secretsPrefix = tenantSecretsPrefix(config.stageName);

    this.authorizerFunction = new HouseFunction(this, 'AuthorizerFunction', {
      entry: WEBSOCKET_ENTRIES[WEBSOCKET_SERVICES.authorizer],
      description: `WebSocket $connect authorizer: Cognito ID token or web chat key (${config.stageName})`,
      serviceName: WEBSOCKET_SERVICES.authorizer,
      config,
      timeout: Duration.seconds(10),
      environment: {
        [ENV.IDENTITY_PROVIDER]: 'cognito',
        [ENV.USER_POOL_ID]: props.userPool.userPoolId,
        [ENV.USER_POOL_CLIENT_ID]: props.userPoolClient.userPoolClientId,
        // The web chat's signing secret is read with the tenant's credentials.
        [ENV.TENANT_SECRETS_PREFIX]: secretsPrefix,
      },
      table,
      tenantAccess: props.tenantAccess,
    });

    this.connectionFunction = new HouseFunction(this, 'ConnectionFunction', {
      entry: WEBSOCKET_ENTRIES[WEBSOCKET_SERVICES.connection],
      description: `WebSocket $connect / $disconnect: connections with their tenant and TTL (${config.stageName})`,
      serviceName: WEBSOCKET_SERVICES.connection,
      config,
      timeout: Duration.seconds(10),
      table,
      tenantAccess: props.tenantAccess,
    });

    const turnEnvironment: EnvironmentVariables = {
      [ENV.EMBEDDER]: 'titan',
      [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
      [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusName,
      [ENV.EXECUTION_QUEUE_URL]: props.executionQueue.queueUrl,
      [ENV.APPROVAL_STATE_MACHINE_ARN]: props.approvalWorkflow.stateMachine.stateMachineArn,
      [ENV.TURN_RATE_LIMITS]: JSON.stringify(config.turnRateLimits),
      [ENV.TENANT_SECRETS_PREFIX]: secretsPrefix,
      ...outboundEnvironment(config),
    };
    this.messageFunction = new HouseFunction(this, 'MessageFunction', {
      entry: WEBSOCKET_ENTRIES[WEBSOCKET_SERVICES.messages],
      description: `WebSocket frames: subscribe, unsubscribe, send_message (a chat turn, streamed), agent_feedback (${config.stageName})`,
      serviceName: WEBSOCKET_SERVICES.messages,
      config,
      // A turn over the socket is not bound by an HTTP answer: its events are posted as they come.
      timeout: Duration.minutes(2),
      environment: turnEnvironment,
      table,
      tenantAccess: props.tenantAccess,
    });
    grantChatModels(this.messageFunction.role);
    grantTitanEmbeddings(this.messageFunction.role);
    props.eventBus.grantPutEventsTo(this.messageFunction.role);
    props.executionQueue.grant(this.messageFunction.role, 'sqs:SendMessage');
    props.approvalWorkflow.grantStart(this.messageFunction.role);
    props.approvalWorkflow.grantTaskResponse(this.messageFunction.role);
    grantOutbound(this.messageFunction.role, config);

    const authorizer = new WebSocketLambdaAuthorizer('ConnectAuthorizer', this.authorizerFunction.function, {
      // None required by the gateway: the token may come as `?token=` or `Sec-WebSocket-Protocol`,
      // a visitor brings `?key=` instead; the authorizer refuses a request with none of them.
      identitySource: [],
    });
    const connection = new WebSocketLambdaIntegration(
      'ConnectionIntegration',
      this.connectionFunction.function,
    );
    const messages = new WebSocketLambdaIntegration('MessageIntegration', this.messageFunction.function);

    this.api = new WebSocketApi(this, 'Api', {
      apiName: `agent-platform-ws-${config.stageName}`,
      description: `Agent platform real-time API (${config.stageName})`,
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: { integration: connection, authorizer },
      disconnectRouteOptions: { integration: connection },
      defaultRouteOptions: { integration: messages },
    });
    for (const action of CLIENT_ACTIONS) this.api.addRoute(action, { integration: messages });
    // $disconnect, $default and the action routes belong to a connection `$connect` authorized:
    // API Gateway only lets authorizers on `$connect`.
    for (const child of this.api.node.findAll()) {
      if (child.node.id.endsWith('-Route') || child.node.id.endsWith('Route')) {
        Validations.of(child).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'WebSocket API routes after $connect run on a connection the $connect Lambda authorizer let in (API Gateway allows authorizers only on $connect); each handler also reads the identity the authorizer proved',
        });
      }
    }

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: 'live',
      autoDeploy: true,
      throttle: config.api.throttling,
    });
    // The L2 WebSocket stage takes no access log settings: set them on the CloudFormation stage.
    (this.stage.node.defaultChild as CfnStage).accessLogSettings = {
      destinationArn: this.accessLogGroup.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        requestTime: '$context.requestTime',
        eventType: '$context.eventType',
        routeKey: '$context.routeKey',
        connectionId: '$context.connectionId',
        status: '$context.status',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
        error: '$context.error.message',
        sourceIp: '$context.identity.sourceIp',
        // Who, never a token: the authorizer's principal (a user id, or visitor:<agent id>).
        principalId: '$context.authorizer.principalId',
      }),
    };
    this.url = this.stage.url;
    this.callbackUrl = this.stage.callbackUrl;

    // Not grantManageConnections (every stage, every method): posting on this stage is all it does.
    this.manageConnectionsArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${this.stage.stageName}/POST/@connections/*`,
    });
    this.grantPostToConnections(this.messageFunction);
    this.callbackUrlParameter = new StringParameter(this, 'CallbackUrlParameter', {
      parameterName: websocketCallbackParameterName(config.stageName),
      description: `WebSocket API connection management endpoint (${config.stageName})`,
      stringValue: this.callbackUrl,
    });

    const metric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: this.api.apiId, Stage: this.stage.stageName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.alarms = [
      new Alarm(this, 'IntegrationErrorAlarm', {
        alarmDescription: `WebSocket API: ${WEBSOCKET_INTEGRATION_ERROR_THRESHOLD}+ integration errors in 5 minutes (${config.stageName})`,
        metric: metric('IntegrationError'),
        threshold: WEBSOCKET_INTEGRATION_ERROR_THRESHOLD,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'ExecutionErrorAlarm', {
        alarmDescription: `WebSocket API: ${WEBSOCKET_INTEGRATION_ERROR_THRESHOLD}+ execution errors in 5 minutes (${config.stageName})`,
        metric: metric('ExecutionError'),
        threshold: WEBSOCKET_INTEGRATION_ERROR_THRESHOLD,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
    props.notifications.notify(this.alarms);

    new CfnOutput(this, 'WebSocketUrl', { value: this.url, description: 'WebSocket API URL (wss://)' });
  }

  /**
   * Lets a function that publishes turn events (the message Lambda; the runtime, actions and
   * worker Lambdas whose turns and approvals subscribers follow) post them to connections:
   * WEBSOCKET_CALLBACK_URL and `execute-api:ManageConnections` on this API's stage, nothing else.
   */
  public grantPostToConnections(fn: HouseFunction): void {
    fn.function.addEnvironment(ENV.WEBSOCKET_CALLBACK_URL, this.callbackUrl);
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['execute-api:ManageConnections'],
        resources: [this.manageConnectionsArn],
      }),
    );
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(this, this.manageConnectionsArn)}]`,
      reason:
        'Connection ids are made by API Gateway at $connect, so PostToConnection is granted on this API’s stage for any connection; the action is ManageConnections on this API only.',
    });
    this.postingFunctions.push(fn);
  }

  /** Every function that may post to connections (the infra tests hold the list to this). */
  public readonly postingFunctions: HouseFunction[] = [];

  /**
   * The same for a function of a stack deployed before this one (it already has
   * WEBSOCKET_CALLBACK_URL_PARAMETER, a fixed name): a policy of this stack attached to its role
   * (a statement on the role's own policy would make its stack refer to this one, a cycle) lets
   * it read the callback URL parameter and post on this API's stage, nothing else.
   */
  public grantPostToConnectionsByParameter(name: string, role: IRole): Policy {
    const policy = new Policy(this, `${name}PostToConnections`, {
      roles: [role],
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['ssm:GetParameter'],
          resources: [this.callbackUrlParameter.parameterArn],
        }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['execute-api:ManageConnections'],
          resources: [this.manageConnectionsArn],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(this, this.manageConnectionsArn)}]`,
      reason:
        'Connection ids are made by API Gateway at $connect, so PostToConnection is granted on this API’s stage for any connection; the action is ManageConnections on this API only.',
    });
    this.rolesPostingByParameter.push(role);
    return policy;
  }

  /** Roles of earlier stacks' functions that post to connections (through the parameter). */
  public readonly rolesPostingByParameter: IRole[] = [];

  /** The three Lambdas by service name (for the dashboard and the per-function error alarms). */
  public functions(): Record<string, HouseFunction> {
    return {
      [WEBSOCKET_SERVICES.authorizer]: this.authorizerFunction,
      [WEBSOCKET_SERVICES.connection]: this.connectionFunction,
      [WEBSOCKET_SERVICES.messages]: this.messageFunction,
    };
  }
}
