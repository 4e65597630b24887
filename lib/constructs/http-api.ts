import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import {
  DEPLOYED_ROUTE_KEYS,
  type HttpLambdaName,
  ROUTES,
  splitRouteKey,
} from '../../lambdas/http/route-table';
import type { EnvironmentConfig } from '../config';
import { HTTP_LAMBDAS } from '../http-lambdas';
import type { ApprovalWorkflow } from './approval-workflow';
import { grantChatModels, grantTitanEmbeddings } from './bedrock-access';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { grantOutbound, outboundEnvironment, tenantSecretsPrefix } from './outbound-access';
import { grantPayments, paymentsEnvironment } from './payments-access';
import type { ProvisioningWorkflow } from './provisioning-workflow';
import type { TenantAccess } from './tenant-access';

/**
 * What the identity Lambdas may do to the user pool: create, disable, enable and remove users,
 * sign them out everywhere, set their password, move them between role groups, and sign them in
 * with the caller's context for threat protection (the admin auth calls). Nothing that lists or
 * searches the pool; turn a user's MFA off (an admin's reset). (TOTP enrolment and turning one's
 * own TOTP off use the user's own access token: no IAM.)
 */
export const IDENTITY_ACTIONS = [
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminDeleteUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminInitiateAuth',
  'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:AdminRemoveUserFromGroup',
  'cognito-idp:AdminRespondToAuthChallenge',
  'cognito-idp:AdminSetUserMFAPreference',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminUserGlobalSignOut',
] as const;

export interface PlatformHttpApiProps {
  readonly config: EnvironmentConfig;
  /** The data table every HTTP Lambda reads, at the level its HTTP_LAMBDAS entry declares. */
  readonly data: DataTableResources;
  readonly userPool: IUserPool;
  /** Its client id is the tokens' audience and is what the identity Lambdas sign users in with. */
  readonly userPoolClient: IUserPoolClient;
  /** The pool's issuer URL (`https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  readonly issuerUrl: string;
  /**
   * Where Lambdas whose HTTP_LAMBDAS entry sets `executionQueue` send async executions: they get
   * its URL as EXECUTION_QUEUE_URL and `sqs:SendMessage` on it, nothing else of it.
   */
  readonly executionQueue: IQueue;
  /**
   * Where Lambdas whose HTTP_LAMBDAS entry sets `inboundQueue` queue customer messages: they get
   * INBOUND_QUEUE_URL (and PUBLIC_BASE_URL) and `sqs:SendMessage` on it.
   */
  readonly inboundQueue: IQueue;
  /**
   * The domain event bus. Lambdas whose HTTP_LAMBDAS entry sets `events` get its name as
   * EVENT_BUS_NAME and `events:PutEvents` on it alone.
   */
  readonly eventBus: IEventBus;
  /**
   * The approval state machine. Lambdas whose HTTP_LAMBDAS entry sets `approvalWorkflow` get its
   * ARN as APPROVAL_STATE_MACHINE_ARN, `states:StartExecution` on it and SendTaskSuccess/Failure/
   * Heartbeat on its tasks. Required as soon as an entry sets the flag.
   */
  readonly approvalWorkflow?: Pick<ApprovalWorkflow, 'stateMachine' | 'grantStart' | 'grantTaskResponse'>;
  /**
   * The provision-agent state machine. Lambdas whose HTTP_LAMBDAS entry sets `provisioningWorkflow`
   * get its ARN as PROVISIONING_STATE_MACHINE_ARN and `states:StartExecution` on it.
   */
  readonly provisioningWorkflow?: Pick<
    ProvisioningWorkflow,
    'stateMachine' | 'grantStart' | 'grantRelease' | 'releaseEnvironment'
  >;
  /**
   * The tenant-access role. Lambdas whose HTTP_LAMBDAS entry sets `tenantAccess` get its ARN as
   * TENANT_ACCESS_ROLE_ARN and may assume it (with a tenant session tag), nothing else of it.
   */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
}

/**
 * The public HTTP API, generated from the route table: one Lambda per HTTP_LAMBDAS entry and one
 * route per ROUTES entry, JWT-authorized unless the table marks the route public.
 */
export class PlatformHttpApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  /** Base URL of the API, ending in `/`. */
  public readonly url: string;
  public readonly functions: Readonly<Record<HttpLambdaName, HouseFunction>>;
  public readonly accessLogGroup: LogGroup;
  /**
   * Where the console is hosted (config `console.enabled`): the secret its CloudFront distribution
   * sends as `x-origin-verify` (lambdas/http/edge-headers.ts), proving a request came through it.
   * The Lambdas whose HTTP_LAMBDAS entry sets `callerAddress` may read it, and nothing else may.
   */
  public readonly originVerifySecret?: Secret;

  constructor(scope: Construct, id: string, props: PlatformHttpApiProps) {
    super(scope, id);
    const { config } = props;

    if (config.console.enabled) {
      // A header value: letters and digits only. The console stack reads it by dynamic reference.
      this.originVerifySecret = new Secret(this, 'OriginVerify', {
        description: `Sent by the console's CloudFront distribution to the HTTP API as x-origin-verify (${config.stageName})`,
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(this.originVerifySecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The origin-verify secret only tells the sign-in which address to hand Cognito threat protection; it grants no access. CloudFront takes its value when the console stack is deployed, so a rotation Lambda would break the match until then: replace the secret and redeploy both stacks instead (until both agree, requests through CloudFront fall back to the edge address, and nothing fails).',
      });
    }
    this.functions = this.createFunctions(props);

    const methods = new Set(DEPLOYED_ROUTE_KEYS.map((key) => splitRouteKey(key).method));
    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `agent-platform-${config.stageName}`,
      description: `Agent platform public API (${config.stageName})`,
      // The default stage is declared below, because the one HttpApi creates cannot take
      // throttling or access logging.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: config.api.corsAllowedOrigins,
        allowMethods: [...methods].map(toCorsMethod),
        allowHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key'],
        exposeHeaders: ['etag', 'location'],
        allowCredentials: false,
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: config.api.throttling,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            error: '$context.error.message',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            // The caller's user id, so one user's requests can be followed; no token or body is logged.
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
    this.url = this.stage.url;

    const authorizer = new HttpJwtAuthorizer('CognitoJwt', props.issuerUrl, {
      jwtAudience: [props.userPoolClient.userPoolClientId],
      identitySource: ['$request.header.Authorization'],
    });
    const integrations = new Map<HttpLambdaName, HttpLambdaIntegration>();
    for (const [name, fn] of Object.entries(this.functions) as [HttpLambdaName, HouseFunction][]) {
      // One permission for the whole API instead of one per route: the function's resource policy
      // would otherwise grow with every route, and no other API can reach these functions anyway.
      integrations.set(
        name,
        new HttpLambdaIntegration(`${name}-integration`, fn.function, { scopePermissionToRoute: false }),
      );
    }

    for (const key of DEPLOYED_ROUTE_KEYS) {
      const spec = ROUTES[key];
      const { method, path } = splitRouteKey(key);
      const integration = integrations.get(spec.lambda);
      if (!integration) throw new Error(`Route ${key} names unknown Lambda ${spec.lambda}`);
      const isPublic = spec.permission === 'public';
      const route = new HttpRoute(this, routeConstructId(key), {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.with(path, toHttpMethod(method)),
        integration,
        authorizer: isPublic ? new HttpNoneAuthorizer() : authorizer,
      });
      if (isPublic) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${key} is public in the route table (“${spec.summary}”): it serves callers who have no token yet or need none (sign-up, sign-in, health, API description). Its handler validates the input and the stage throttling applies.`,
        });
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.url, description: 'Base URL of the HTTP API' });
  }

  private createFunctions(props: PlatformHttpApiProps): Record<HttpLambdaName, HouseFunction> {
    const { config } = props;
    const functions = {} as Record<HttpLambdaName, HouseFunction>;
    for (const [name, spec] of Object.entries(HTTP_LAMBDAS) as [
      HttpLambdaName,
      (typeof HTTP_LAMBDAS)[HttpLambdaName],
    ][]) {
      const environment: EnvironmentVariables = { [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts) };
      if (spec.identity) {
        environment[ENV.IDENTITY_PROVIDER] = 'cognito';
        environment[ENV.USER_POOL_ID] = props.userPool.userPoolId;
        environment[ENV.USER_POOL_CLIENT_ID] = props.userPoolClient.userPoolClientId;
      }
      const embeds = 'bedrock' in spec && spec.bedrock === true;
      const callsModels = 'models' in spec && spec.models === true;
      const queuesExecutions = 'executionQueue' in spec && spec.executionQueue === true;
      const publishesEvents = 'events' in spec && spec.events === true;
      const runsApprovals = 'approvalWorkflow' in spec && spec.approvalWorkflow === true;
      const actsOutside = 'outbound' in spec && spec.outbound === true;
      const sellsTokens = 'payments' in spec && spec.payments === true;
      const queuesInbound = 'inboundQueue' in spec && spec.inboundQueue === true;
      const readsChannelSecrets = 'channelSecrets' in spec && spec.channelSecrets === true;
      const provisions = 'provisioningWorkflow' in spec && spec.provisioningWorkflow === true;
      if (provisions && props.provisioningWorkflow) {
        environment[ENV.PROVISIONING_STATE_MACHINE_ARN] =
          props.provisioningWorkflow.stateMachine.stateMachineArn;
        Object.assign(environment, props.provisioningWorkflow.releaseEnvironment);
      }
      if (runsApprovals && !props.approvalWorkflow) {
        throw new Error(`HTTP Lambda ${name} runs approval workflows, but no approval workflow was given`);
      }
      if (embeds) environment[ENV.EMBEDDER] = 'titan';
      if (queuesExecutions) environment[ENV.EXECUTION_QUEUE_URL] = props.executionQueue.queueUrl;
      if (queuesInbound) {
        environment[ENV.INBOUND_QUEUE_URL] = props.inboundQueue.queueUrl;
        if (config.publicBaseUrl) environment[ENV.PUBLIC_BASE_URL] = config.publicBaseUrl;
      }
      if ('publicBaseUrl' in spec && spec.publicBaseUrl === true && config.publicBaseUrl) {
        environment[ENV.PUBLIC_BASE_URL] = config.publicBaseUrl;
      }
      if (publishesEvents) environment[ENV.EVENT_BUS_NAME] = props.eventBus.eventBusName;
      if (runsApprovals && props.approvalWorkflow) {
        environment[ENV.APPROVAL_STATE_MACHINE_ARN] = props.approvalWorkflow.stateMachine.stateMachineArn;
      }
      if (actsOutside) Object.assign(environment, outboundEnvironment(config));
      if ('turnRateLimits' in spec && spec.turnRateLimits === true) {
        environment[ENV.TURN_RATE_LIMITS] = JSON.stringify(config.turnRateLimits);
      }
      if (sellsTokens) Object.assign(environment, paymentsEnvironment(config));
      const fn = new HouseFunction(this, `${pascalCase(name)}Function`, {
        entry: spec.entry,
        description: `${spec.description} (${config.stageName})`,
        serviceName: name,
        config,
        environment,
        table: { resources: props.data, access: spec.table },
        ...('timeoutSeconds' in spec ? { timeout: Duration.seconds(spec.timeoutSeconds) } : {}),
        ...(spec.tenantAccess ? { tenantAccess: props.tenantAccess } : {}),
      });
      if (spec.identity) {
        fn.role.addToPrincipalPolicy(
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [...IDENTITY_ACTIONS],
            resources: [props.userPool.userPoolArn],
          }),
        );
      }
      if (embeds) grantTitanEmbeddings(fn.role);
      if (callsModels) grantChatModels(fn.role);
      // Sending is all the runtime does with the queue: not grantSendMessages, which adds
      // GetQueueAttributes and GetQueueUrl (the URL comes from the environment). The queue is
      // encrypted with an SQS-managed key, so there is no KMS key to grant either.
      if (queuesExecutions) props.executionQueue.grant(fn.role, 'sqs:SendMessage');
      if (queuesInbound) props.inboundQueue.grant(fn.role, 'sqs:SendMessage');
      // Channel secrets are read and written with the tenant's credentials: only the prefix here.
      if (readsChannelSecrets) {
        if (!spec.tenantAccess)
          throw new Error(`HTTP Lambda ${name} uses channel secrets without tenant access`);
        fn.function.addEnvironment(ENV.TENANT_SECRETS_PREFIX, tenantSecretsPrefix(config.stageName));
      }
      if (publishesEvents) props.eventBus.grantPutEventsTo(fn.role);
      if (runsApprovals && props.approvalWorkflow) {
        props.approvalWorkflow.grantStart(fn.role);
        props.approvalWorkflow.grantTaskResponse(fn.role);
      }
      if (provisions && props.provisioningWorkflow) {
        props.provisioningWorkflow.grantStart(fn.role);
        props.provisioningWorkflow.grantRelease(fn.role);
      }
      if (actsOutside) grantOutbound(fn.role, config);
      if (sellsTokens) grantPayments(fn.role, config);
      if ('callerAddress' in spec && spec.callerAddress === true && this.originVerifySecret) {
        fn.function.addEnvironment(ENV.ORIGIN_VERIFY_SECRET_ARN, this.originVerifySecret.secretArn);
        fn.role.addToPrincipalPolicy(
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ['secretsmanager:GetSecretValue'],
            resources: [this.originVerifySecret.secretArn],
          }),
        );
      }
      functions[name] = fn;
    }
    return functions;
  }
}

function toHttpMethod(method: string): HttpMethod {
  const value = HttpMethod[method as keyof typeof HttpMethod];
  if (value === undefined) throw new Error(`Unsupported HTTP method in the route table: ${method}`);
  return value;
}

function toCorsMethod(method: string): CorsHttpMethod {
  const value = CorsHttpMethod[method as keyof typeof CorsHttpMethod];
  if (value === undefined) throw new Error(`Unsupported HTTP method in the route table: ${method}`);
  return value;
}

function pascalCase(word: string): string {
  return word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Stable construct id for a route key, e.g. `GET /v1/agents/{id}/stats` → `GetV1AgentsByIdStats`.
 * Logical ids follow from it, so it must not change when routes are added or reordered.
 */
export function routeConstructId(key: string): string {
  const { method, path } = splitRouteKey(key);
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith('{') ? `By${pascalCase(segment)}` : pascalCase(segment)));
  return `${pascalCase(method.toLowerCase())}${segments.join('')}`;
}
