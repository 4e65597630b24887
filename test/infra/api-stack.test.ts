import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  leadingKeysCondition,
  PLATFORM_KEY_PREFIXES,
  platformKeyPatterns,
} from '../../lambdas/composition/tenant-access-policy';
import {
  DEPLOYED_ROUTE_KEYS,
  type HttpLambdaName,
  ROUTES,
  type RouteKey,
} from '../../lambdas/http/route-table';
import type { HouseFunction } from '../../lib/constructs/house-function';
import { IDENTITY_ACTIONS } from '../../lib/constructs/http-api';
import { EXECUTION_QUEUE_AGE_THRESHOLD_SECONDS } from '../../lib/constructs/observability';
import { HTTP_LAMBDAS } from '../../lib/http-lambdas';
import { alarmTopicReference, buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const WORKER = 'execution-worker';
type FunctionName = HttpLambdaName | typeof WORKER;
/** What each function is declared with: the HTTP_LAMBDAS entry, or the worker's equivalent. */
type FunctionSpec = {
  table: 'read' | 'readWrite';
  identity: boolean;
  bedrock?: boolean;
  models?: boolean;
  executionQueue?: boolean;
  outbound?: boolean;
  callerAddress?: boolean;
};

const LAMBDA_NAMES = Object.keys(HTTP_LAMBDAS) as HttpLambdaName[];
/** Every Lambda of the stack: the HTTP ones and the execution worker. */
const FUNCTION_NAMES: FunctionName[] = [...LAMBDA_NAMES, WORKER];
const ROUTE_KEYS: RouteKey[] = DEPLOYED_ROUTE_KEYS;
const WORKER_SPEC: FunctionSpec = { table: 'readWrite', identity: false, bedrock: true, models: true };
const specOf = (name: FunctionName): FunctionSpec => (name === WORKER ? WORKER_SPEC : HTTP_LAMBDAS[name]);
const WORKER_TIMEOUT_SECONDS = 300;

describe('api stack', () => {
  let fixture: PlatformFixture;
  let template: Template;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    fixture = buildPlatform('dev');
    template = Template.fromStack(fixture.api);
    resources = template.toJSON().Resources as Record<string, Resource>;
  });

  function propertiesOf(logicalId: string): Record<string, unknown> {
    const resource = resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template`);
    return resource.Properties;
  }

  const houseFunction = (name: FunctionName): HouseFunction =>
    name === WORKER ? fixture.api.executions.worker : fixture.api.api.functions[name];
  const functionId = (name: FunctionName) => logicalIdOf(fixture.api, houseFunction(name).function);
  const queueArn = () => ({ 'Fn::GetAtt': [logicalIdOf(fixture.api, fixture.api.executions.queue), 'Arn'] });
  const inboundQueueArn = () => ({
    'Fn::GetAtt': [logicalIdOf(fixture.api, fixture.api.inbound.queue), 'Arn'],
  });
  const variablesOf = (name: FunctionName) =>
    (propertiesOf(functionId(name)).Environment as { Variables: Record<string, unknown> }).Variables;

  /** Every statement of the inline policies attached to a Lambda's role. */
  function statementsOf(name: FunctionName): Statement[] {
    const roleId = logicalIdOf(fixture.api, houseFunction(name).role);
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const actionsOf = (name: FunctionName) =>
    statementsOf(name).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  describe('routes', () => {
    it('has exactly one route per route-table entry', () => {
      // The HTTP API's routes ("METHOD /path"); the WebSocket API's have their own test.
      const routeKeys = Object.values(resources)
        .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && String(r.Properties.RouteKey).includes(' /'))
        .map((r) => r.Properties.RouteKey);
      expect([...routeKeys].sort()).toEqual([...ROUTE_KEYS].sort());
    });

    it.each(ROUTE_KEYS)('%s has the authorization its permission asks for and reaches its Lambda', (key) => {
      const spec = ROUTES[key];
      const [route] = Object.values(
        template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }),
      );
      expect(route).toBeDefined();
      const props = (route as Resource).Properties;
      if (spec.permission === 'public') {
        expect(props.AuthorizationType).toBe('NONE');
        expect(props.AuthorizerId).toBeUndefined();
      } else {
        const [authorizerId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
        expect(props.AuthorizationType).toBe('JWT');
        expect(props.AuthorizerId).toEqual({ Ref: authorizerId });
      }
      const target = JSON.stringify(props.Target);
      const integrationId = /"Ref":"([A-Za-z0-9]+)"/.exec(target)?.[1] ?? '';
      const integration = resources[integrationId];
      expect(integration?.Type).toBe('AWS::ApiGatewayV2::Integration');
      expect(JSON.stringify(integration?.Properties.IntegrationUri)).toContain(
        `"${functionId(spec.lambda)}"`,
      );
    });

    it('authorizes with the Cognito pool as issuer and the app client as audience', () => {
      // The JWT authorizer, and the WebSocket API's $connect Lambda authorizer (its own test).
      template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 2);
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: {
            'Fn::Join': ['', ['https://', Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() })]],
          },
          Audience: [Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() })],
        },
      });
    });

    it('throttles and access-logs the default stage, and outputs its URL', () => {
      const { rateLimit, burstLimit } = fixture.config.api.throttling;
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
          Format: Match.stringLikeRegexp('requestId'),
        },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        RetentionInDays: fixture.config.logRetentionDays,
      });
      expect(Object.keys(template.findOutputs('*'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/ApiUrl/)]),
      );
    });
  });

  describe('lambdas', () => {
    it('creates one function per HTTP_LAMBDAS entry, the execution worker, the inbound worker and housekeeping (the workflow steps live in the workflow stack)', () => {
      // + the WebSocket API's authorizer, connection and message Lambdas.
      template.resourceCountIs('AWS::Lambda::Function', LAMBDA_NAMES.length + 3 + 3);
    });

    it.each(FUNCTION_NAMES)(
      '%s runs Node.js 22 on arm64, traced, logging to a group with retention',
      (name) => {
        const fn = resources[functionId(name)];
        expect(fn?.Properties).toMatchObject({
          Architectures: ['arm64'],
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          MemorySize: fixture.config.lambda.memoryMb,
          // The worker answers no HTTP request, so the API's 29 s limit does not bind it; an HTTP
          // Lambda whose entry says so (runtime: turns under a deadline) waits as long as the API does.
          Timeout:
            name === WORKER
              ? WORKER_TIMEOUT_SECONDS
              : ((specOf(name) as { timeoutSeconds?: number }).timeoutSeconds ??
                fixture.config.lambda.timeoutSeconds),
        });
        const logGroupRef = (propertiesOf(functionId(name)).LoggingConfig as { LogGroup: { Ref: string } })
          .LogGroup.Ref;
        expect(resources[logGroupRef]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: fixture.config.logRetentionDays },
        });
      },
    );

    it('gives the chat Lambda as long as the HTTP API waits (29 s), for turns under a deadline', () => {
      expect(propertiesOf(functionId('runtime')).Timeout).toBe(29);
    });

    it.each(FUNCTION_NAMES)('%s gets the table, stage and Powertools settings', (name) => {
      const variables = variablesOf(name);
      expect(variables).toMatchObject({
        STAGE: 'dev',
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: 'AgentPlatform/dev',
        POWERTOOLS_LOG_LEVEL: fixture.config.lambda.logLevel,
      });
      expect(variables.TABLE_NAME).toBeDefined();
      expect(JSON.parse(variables.TOKEN_COSTS as string)).toEqual(fixture.config.tokenCosts);
      // The Lambda that runs turns admits them under the environment's limits; the operator's
      // rate-limit routes (billing) show them beside a tenant's own.
      if (name === 'runtime' || name === 'billing') {
        expect(JSON.parse(variables.TURN_RATE_LIMITS as string)).toEqual(fixture.config.turnRateLimits);
      } else {
        expect(variables.TURN_RATE_LIMITS).toBeUndefined();
      }
      if (specOf(name).identity) {
        expect(variables).toMatchObject({ IDENTITY_PROVIDER: 'cognito' });
        expect(variables.USER_POOL_ID).toBeDefined();
        expect(variables.USER_POOL_CLIENT_ID).toBeDefined();
      } else {
        expect(variables.IDENTITY_PROVIDER).toBeUndefined();
        expect(variables.USER_POOL_ID).toBeUndefined();
      }
    });

    it.each(FUNCTION_NAMES)('%s is told the execution queue URL only if it queues executions', (name) => {
      const variables = variablesOf(name);
      if (specOf(name).executionQueue) {
        expect(variables.EXECUTION_QUEUE_URL).toEqual({
          Ref: logicalIdOf(fixture.api, fixture.api.executions.queue),
        });
      } else {
        expect(variables.EXECUTION_QUEUE_URL).toBeUndefined();
      }
    });
  });

  describe('execution queue', () => {
    const queueProperties = () => propertiesOf(logicalIdOf(fixture.api, fixture.api.executions.queue));
    const deadLetterId = () => logicalIdOf(fixture.api, fixture.api.executions.deadLetterQueue);

    it('encrypts both queues with SQS-managed keys and keeps messages 4 and 14 days', () => {
      // + housekeeping's on-failure queue and the inbound queue with its dead-letter queue.
      template.resourceCountIs('AWS::SQS::Queue', 5);
      expect(queueProperties()).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 4 * 86_400,
      });
      expect(propertiesOf(deadLetterId())).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86_400,
      });
    });

    it('dead-letters a message after three receives', () => {
      expect(queueProperties().RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId(), 'Arn'] },
        maxReceiveCount: 3,
      });
    });

    it('hides a received message for at least six times the worker’s timeout', () => {
      const workerTimeout = propertiesOf(functionId(WORKER)).Timeout as number;
      expect(queueProperties().VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    });

    it('refuses plain HTTP on both queues', () => {
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Resource[];
      const guarded = policies.flatMap((policy) => {
        const denies = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
          (s) =>
            s.Effect === 'Deny' &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        );
        return denies.length > 0 ? (policy.Properties.Queues as unknown[]) : [];
      });
      expect(guarded).toEqual(
        expect.arrayContaining([
          { Ref: logicalIdOf(fixture.api, fixture.api.executions.queue) },
          { Ref: deadLetterId() },
        ]),
      );
    });

    it('feeds the worker in small batches, per-message failures, bounded concurrency', () => {
      // This one and the inbound worker's.
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: queueArn(),
        FunctionName: { Ref: functionId(WORKER) },
        BatchSize: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });

    it('runs the worker’s handler module with the Titan embedder and the token costs', () => {
      expect(fixture.api.executions.worker.function.node.path).toContain('Executions/Worker');
      expect(variablesOf(WORKER)).toMatchObject({
        EMBEDDER: 'titan',
        POWERTOOLS_SERVICE_NAME: WORKER,
      });
    });
  });

  describe('inbound queue', () => {
    const inboundId = () => logicalIdOf(fixture.api, fixture.api.inbound.queue);
    const inboundDeadLetterId = () => logicalIdOf(fixture.api, fixture.api.inbound.deadLetterQueue);
    const inboundWorkerId = () => logicalIdOf(fixture.api, fixture.api.inbound.worker.function);

    it('is a FIFO queue with a FIFO dead-letter queue after three receives, both SQS-encrypted', () => {
      expect(propertiesOf(inboundId())).toMatchObject({
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [inboundDeadLetterId(), 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      expect(propertiesOf(inboundDeadLetterId())).toMatchObject({
        FifoQueue: true,
        SqsManagedSseEnabled: true,
      });
      const workerTimeout = propertiesOf(inboundWorkerId()).Timeout as number;
      expect(propertiesOf(inboundId()).VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    });

    it('feeds the inbound worker with per-message failures reported', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: inboundQueueArn(),
        FunctionName: { Ref: inboundWorkerId() },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('gives the webhooks Lambda the queue URL and SendMessage on it only, and the worker the runtime’s settings', () => {
      expect(variablesOf('webhooks')).toMatchObject({ INBOUND_QUEUE_URL: { Ref: inboundId() } });
      const worker = (propertiesOf(inboundWorkerId()).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(worker).toMatchObject({
        EMBEDDER: 'titan',
        POWERTOOLS_SERVICE_NAME: 'inbound-worker',
        OUTBOUND_MODE: 'live',
        APPROVAL_STATE_MACHINE_ARN: expect.anything(),
      });
      expect(worker.INBOUND_QUEUE_URL).toBeUndefined();
      // Inbound turns are admitted under the environment's turn rate limits, as chat turns are.
      expect(JSON.parse(worker.TURN_RATE_LIMITS as string)).toEqual(fixture.config.turnRateLimits);
    });

    it('alarms on dead-lettered customer messages and on customers left waiting', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [inboundDeadLetterId(), 'QueueName'] } }],
        Threshold: 0,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [inboundId(), 'QueueName'] } }],
        Threshold: 60,
      });
    });
  });

  describe('least privilege', () => {
    it.each(FUNCTION_NAMES)(
      '%s gets cognito-idp actions only if it is an identity Lambda, on the pool only',
      (name) => {
        const cognito = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('cognito-idp:'));
        if (!specOf(name).identity) {
          expect(cognito).toEqual([]);
          return;
        }
        expect(cognito).toEqual([
          expect.objectContaining({ Effect: 'Allow', Action: [...IDENTITY_ACTIONS].sort() }),
        ]);
        expect(JSON.stringify(cognito[0]?.Resource)).toMatch(/IdentityUserPool[0-9A-F]+Arn/);
      },
    );

    it('lets the auth Lambda sign users in with their context and answer their challenges', () => {
      const actions = statementsOf('auth').flatMap((s) => [s.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining(['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminRespondToAuthChallenge']),
      );
    });

    it.each(FUNCTION_NAMES)(
      '%s may invoke the Titan embedding model, and is told to use it, only if it embeds',
      (name) => {
        const spec = specOf(name);
        const titanArn = `arn:aws:bedrock:${Stack.of(fixture.api).region}::foundation-model/amazon.titan-embed-text-v2:0`;
        const titan = statementsOf(name).filter((s) => JSON.stringify(s.Resource).includes(titanArn));
        const variables = variablesOf(name);
        if (!spec.bedrock) {
          expect(titan).toEqual([]);
          expect(variables.EMBEDDER).toBeUndefined();
          if (!spec.models) expect(actionsOf(name).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
          return;
        }
        expect(variables.EMBEDDER).toBe('titan');
        // InvokeModel only, unconditioned: embeddings never stream (the chat-model statements,
        // which also allow streaming, stay apart from it).
        expect(titan).toEqual([{ Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: titanArn }]);
      },
    );

    it.each(FUNCTION_NAMES)(
      '%s may call chat models and apply guardrails only if it calls models, nowhere else',
      (name) => {
        const region = Stack.of(fixture.api).region;
        const inAccount = (resource: string) => ({
          'Fn::Join': ['', [`arn:aws:bedrock:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`]],
        });
        const chat = statementsOf(name).filter(
          (s) =>
            JSON.stringify(s.Action).includes('bedrock:') &&
            !(s.Resource === `arn:aws:bedrock:${region}::foundation-model/amazon.titan-embed-text-v2:0`),
        );
        if (!specOf(name).models) {
          expect(chat).toEqual([]);
          return;
        }
        const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
        expect(chat).toHaveLength(3);
        const destinations = chat.find((s) => s.Condition !== undefined);
        const guardrails = chat.find((s) => s.Action === 'bedrock:ApplyGuardrail');
        const models = chat.find((s) => s !== destinations && s !== guardrails);
        // In the stack's region: any foundation model and any of the account's inference profiles.
        // Whole (Converse) or streamed (ConverseStream, for a turn's watchers).
        const CHAT_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];
        expect(models).toMatchObject({ Effect: 'Allow', Action: CHAT_ACTIONS });
        expect(models?.Condition).toBeUndefined();
        expect(resources(models as Statement)).toEqual(
          expect.arrayContaining([
            `arn:aws:bedrock:${region}::foundation-model/*`,
            inAccount('inference-profile/*'),
          ]),
        );
        expect(
          resources(models as Statement).filter((r) => !JSON.stringify(r).includes('titan-embed')),
        ).toHaveLength(2);
        // In any region, but only as the destination of one of the account's inference profiles.
        expect(destinations).toEqual({
          Effect: 'Allow',
          Action: CHAT_ACTIONS,
          Resource: 'arn:aws:bedrock:*::foundation-model/*',
          Condition: { StringLike: { 'bedrock:InferenceProfileArn': inAccount('inference-profile/*') } },
        });
        expect(guardrails).toEqual({
          Effect: 'Allow',
          Action: 'bedrock:ApplyGuardrail',
          Resource: inAccount('guardrail/*'),
        });
        // No other Bedrock action is granted.
        expect([...new Set(actionsOf(name).filter((a) => a.startsWith('bedrock:')))].sort()).toEqual([
          'bedrock:ApplyGuardrail',
          'bedrock:InvokeModel',
          'bedrock:InvokeModelWithResponseStream',
        ]);
      },
    );

    it.each(FUNCTION_NAMES)('%s may send to the execution queue only if it queues executions', (name) => {
      const sqs = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('sqs:'));
      if (name === WORKER) {
        // The event source's consume grant; the worker never sends.
        expect(sqs).toEqual([
          {
            Effect: 'Allow',
            Action: [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
            ],
            Resource: queueArn(),
          },
        ]);
        return;
      }
      const spec = specOf(name) as FunctionSpec & { inboundQueue?: boolean };
      expect(sqs).toEqual([
        ...(spec.executionQueue
          ? [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn() }]
          : []),
        ...(spec.inboundQueue
          ? [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: inboundQueueArn() }]
          : []),
      ]);
    });

    it.each(FUNCTION_NAMES)(
      '%s touches the table with its own role only under its platform prefixes, writes only if declared, never Scan',
      (name) => {
        const actions = actionsOf(name);
        const dynamodb = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
        const prefixes = PLATFORM_KEY_PREFIXES[name] ?? [];
        // Tenants' items go through the tenant-access role (test/infra/tenant-access.test.ts).
        for (const statement of dynamodb) {
          expect(statement.Condition).toEqual(leadingKeysCondition(platformKeyPatterns(prefixes)));
        }
        expect(dynamodb.length > 0).toBe(prefixes.length > 0);
        const writes = [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ];
        if (specOf(name).table === 'read') {
          expect(
            actions.filter(
              (a) => writes.includes(a) || a === 'kms:Encrypt' || a.startsWith('kms:GenerateDataKey'),
            ),
          ).toEqual([]);
        }
        expect(
          actions.filter((a) => a === 'dynamodb:Scan' || a === 'dynamodb:DescribeTable' || a.includes('*')),
        ).toEqual([]);
      },
    );

    it('gives the system Lambda one read of its health key, nothing else of the table', () => {
      const actions = actionsOf('system').filter((a) => a.startsWith('dynamodb:') || a.startsWith('kms:'));
      expect([...new Set(actions)].sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'kms:Decrypt',
        'kms:DescribeKey',
      ]);
      const conditions = statementsOf('system')
        .filter((s) => JSON.stringify(s.Action).includes('dynamodb:'))
        .map((s) => s.Condition);
      expect(conditions.length).toBeGreaterThan(0);
      for (const condition of conditions) {
        expect(condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['HEALTH'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        });
      }
    });

    it('uses Resource "*" only for X-Ray, and other wildcards only for the chat-model statements', () => {
      for (const name of FUNCTION_NAMES) {
        const wildcard = statementsOf(name).filter((s) => JSON.stringify(s.Resource).includes('*'));
        const xray = {
          Effect: 'Allow',
          Resource: '*',
          Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
        };
        expect(wildcard.filter((s) => JSON.stringify(s.Resource).includes('"*"'))).toEqual([xray]);
        // The chat-model statements (checked resource by resource above): a wildcard over one kind
        // of Bedrock resource, never over the service or the action.
        const others = wildcard.filter((s) => s !== wildcard.find((w) => w.Resource === '*'));
        // Outbound actions: SES identities and Connect contacts, each a wildcard over one prefix (the
        // tenants' secrets are read with the tenant's credentials, never the function's).
        const sendsOrReleases = others.filter((s) => /"(ses|connect):/.test(JSON.stringify(s.Action)));
        // Deleting an agent releases what provisioning made (release/delete actions only).
        const release = sendsOrReleases.filter((s) =>
          /"(ses:DeleteEmailIdentity|connect:(ReleasePhoneNumber|DeleteContactFlow|DisassociatePhoneNumberContactFlow))"/.test(
            JSON.stringify(s.Action),
          ),
        );
        expect(release.length > 0).toBe(
          (specOf(name) as { provisioningWorkflow?: boolean }).provisioningWorkflow === true,
        );
        for (const statement of release) {
          expect(JSON.stringify(statement.Action)).not.toMatch(/Claim|Create|Send|Start/);
        }
        const outbound = sendsOrReleases.filter((s) => !release.includes(s));
        expect(outbound.length > 0).toBe(specOf(name).outbound === true);
        for (const statement of outbound) {
          expect(JSON.stringify(statement.Resource)).toMatch(/(identity\/\*|\/contact\/\*)"/);
        }
        // Turn events to WebSocket subscribers: ManageConnections on the WebSocket API's stage, any
        // connection (test/infra/websocket-api.test.ts holds who and where).
        const posting = others.filter((s) => JSON.stringify(s.Action) === '"execute-api:ManageConnections"');
        for (const statement of posting)
          expect(JSON.stringify(statement.Resource)).toContain('/live/POST/@connections/*');
        const models = others.filter((s) => !sendsOrReleases.includes(s) && !posting.includes(s));
        expect(models).toHaveLength(specOf(name).models ? 3 : 0);
        for (const statement of models) {
          expect(JSON.stringify(statement.Action)).toMatch(
            /^("bedrock:ApplyGuardrail"|\["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"\])$/,
          );
          expect(JSON.stringify(statement.Resource)).toMatch(
            /(foundation-model|inference-profile|guardrail)\/\*"/,
          );
        }
      }
    });

    it('hands every function the listing cursors’ signing key: its secret’s ARN, and GetSecretValue on that secret alone', () => {
      const arn = variablesOf(FUNCTION_NAMES[0] as (typeof FUNCTION_NAMES)[number]).CURSOR_KEY_SECRET_ARN;
      expect(JSON.stringify(arn)).toContain('CursorKey');
      const originVerify = fixture.api.api.originVerifySecret;
      expect(originVerify).toBeDefined();
      const originVerifyArn = {
        Ref: logicalIdOf(fixture.api, originVerify as NonNullable<typeof originVerify>),
      };
      for (const name of FUNCTION_NAMES) {
        expect(variablesOf(name).CURSOR_KEY_SECRET_ARN).toEqual(arn);
        // The cursor key is the only secret a function's own role reads (payments: the platform's
        // Stripe secret, which is not configured in this environment), but for the console's
        // origin-verify secret, which only the functions that read the caller's address read.
        const readsCallerAddress = specOf(name).callerAddress === true;
        expect(variablesOf(name).ORIGIN_VERIFY_SECRET_ARN).toEqual(
          readsCallerAddress ? originVerifyArn : undefined,
        );
        const secrets = statementsOf(name).filter((s) =>
          JSON.stringify(s.Action).includes('secretsmanager:'),
        );
        expect(secrets.map((s) => s.Action)).toEqual(secrets.map(() => 'secretsmanager:GetSecretValue'));
        const secretArns = secrets.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
        expect(secretArns).toEqual(readsCallerAddress ? [arn, originVerifyArn] : [arn]);
      }
      expect(FUNCTION_NAMES.filter((name) => specOf(name).callerAddress)).toEqual(['auth', 'tenancy']);
    });

    it('lets DynamoDB use the key only on the caller’s behalf', () => {
      const region = Stack.of(fixture.api).region;
      for (const name of FUNCTION_NAMES) {
        const kms = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('kms:'));
        // Only a function with platform-level keys touches the table with its own role.
        if ((PLATFORM_KEY_PREFIXES[name] ?? []).length === 0) {
          expect(kms).toEqual([]);
          continue;
        }
        expect(kms).toEqual([
          expect.objectContaining({
            Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
          }),
        ]);
      }
    });

    it('attaches no AWS managed policy to any role', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect((role as Resource).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('billing events and housekeeping', () => {
    it('gives the bus name and PutEvents on the bus to the Lambdas that publish (billing, runtime, actions), and to no others', () => {
      for (const [name, fn] of Object.entries(fixture.api.api.functions)) {
        const resource = template.toJSON().Resources[logicalIdOf(fixture.api, fn.function)] as Resource;
        const env = (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        const spec = HTTP_LAMBDAS[name as HttpLambdaName];
        const publishes = 'events' in spec && spec.events === true;
        expect({ name, bus: 'EVENT_BUS_NAME' in env }).toEqual({ name, bus: publishes });
      }
      const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
      expect(policies).toContain('events:PutEvents');
    });

    it('sweeps expired reservations every 5 minutes', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: Match.arrayWith([
          Match.objectLike({
            Arn: {
              'Fn::GetAtt': [logicalIdOf(fixture.api, fixture.api.housekeeping.function.function), 'Arn'],
            },
          }),
        ]),
      });
    });
  });

  describe('observability', () => {
    it('alarms on API 5xx, on each Lambda’s errors, on table throttling, on the execution queue and on failed async invocations, notifying the topic', () => {
      // API 5xx, each HTTP Lambda and the worker, housekeeping, table throttling, the queue's two,
      // housekeeping's failed invocations. The workflow steps' alarms live in the workflow stack.
      // + the inbound worker's errors and the inbound queue's two.
      // + the WebSocket API: its three Lambdas' errors, its integration and execution errors.
      template.resourceCountIs(
        'AWS::CloudWatch::Alarm',
        1 + FUNCTION_NAMES.length + 1 + 1 + 2 + 1 + 3 + 3 + 2,
      );
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: '5xx',
        Namespace: 'AWS/ApiGateway',
      });
      for (const name of FUNCTION_NAMES) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ReadThrottleEvents' }) }),
          }),
        ]),
      });
      const topic = alarmTopicReference(fixture);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect((alarm as Resource).Properties.AlarmActions).toEqual([topic]);
        expect((alarm as Resource).Properties.OKActions).toEqual([topic]);
      }
    });

    it('creates no topic of its own: the alarm topic lives in the stateful stack', () => {
      template.resourceCountIs('AWS::SNS::Topic', 0);
    });

    it('alarms as soon as the dead-letter queue holds a message', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: {
              'Fn::GetAtt': [logicalIdOf(fixture.api, fixture.api.executions.deadLetterQueue), 'QueueName'],
            },
          },
        ],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
      });
    });

    it('alarms when a queued execution waits too long', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalIdOf(fixture.api, fixture.api.executions.queue), 'QueueName'] },
          },
        ],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: EXECUTION_QUEUE_AGE_THRESHOLD_SECONDS,
      });
    });

    it('has one dashboard, which shows the execution queues', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      for (const metric of [
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateAgeOfOldestMessage',
        'Dead-lettered executions',
      ]) {
        expect(body).toContain(metric);
      }
    });
  });

  it('is tagged with project and stage', () => {
    expect(fixture.api.tags.tagValues()).toEqual({ project: 'agent-platform', stage: 'dev' });
  });
});
