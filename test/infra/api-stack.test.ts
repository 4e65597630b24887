import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HTTP_LAMBDAS, type HttpLambdaName, ROUTES, type RouteKey } from '../../lambdas/http/route-table';
import { IDENTITY_ACTIONS } from '../../lib/constructs/http-api';
import { buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const LAMBDA_NAMES = Object.keys(HTTP_LAMBDAS) as HttpLambdaName[];
const ROUTE_KEYS = Object.keys(ROUTES) as RouteKey[];

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

  const functionId = (name: HttpLambdaName) =>
    logicalIdOf(fixture.api, fixture.api.api.functions[name].function);

  /** Every statement of the inline policies attached to a Lambda's role. */
  function statementsOf(name: HttpLambdaName): Statement[] {
    const roleId = logicalIdOf(fixture.api, fixture.api.api.functions[name].role);
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const actionsOf = (name: HttpLambdaName) =>
    statementsOf(name).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  describe('routes', () => {
    it('has exactly one route per route-table entry', () => {
      const routeKeys = Object.values(resources)
        .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
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
      template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
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
    it('creates one function per HTTP_LAMBDAS entry', () => {
      template.resourceCountIs('AWS::Lambda::Function', LAMBDA_NAMES.length);
    });

    it.each(LAMBDA_NAMES)(
      '%s runs Node.js 22 on arm64, traced, logging to a group with retention',
      (name) => {
        const fn = resources[functionId(name)];
        expect(fn?.Properties).toMatchObject({
          Architectures: ['arm64'],
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          MemorySize: fixture.config.lambda.memoryMb,
          Timeout: fixture.config.lambda.timeoutSeconds,
        });
        const logGroupRef = (propertiesOf(functionId(name)).LoggingConfig as { LogGroup: { Ref: string } })
          .LogGroup.Ref;
        expect(resources[logGroupRef]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: fixture.config.logRetentionDays },
        });
      },
    );

    it.each(LAMBDA_NAMES)('%s gets the table, stage and Powertools settings', (name) => {
      const variables = (propertiesOf(functionId(name)).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(variables).toMatchObject({
        STAGE: 'dev',
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: 'AgentPlatform/dev',
        POWERTOOLS_LOG_LEVEL: fixture.config.lambda.logLevel,
      });
      expect(variables.TABLE_NAME).toBeDefined();
      expect(JSON.parse(variables.TOKEN_COSTS as string)).toEqual(fixture.config.tokenCosts);
      if (HTTP_LAMBDAS[name].identity) {
        expect(variables).toMatchObject({ IDENTITY_PROVIDER: 'cognito' });
        expect(variables.USER_POOL_ID).toBeDefined();
        expect(variables.USER_POOL_CLIENT_ID).toBeDefined();
      } else {
        expect(variables.IDENTITY_PROVIDER).toBeUndefined();
        expect(variables.USER_POOL_ID).toBeUndefined();
      }
    });
  });

  describe('least privilege', () => {
    it.each(LAMBDA_NAMES)(
      '%s gets cognito-idp actions only if it is an identity Lambda, on the pool only',
      (name) => {
        const cognito = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('cognito-idp:'));
        if (!HTTP_LAMBDAS[name].identity) {
          expect(cognito).toEqual([]);
          return;
        }
        expect(cognito).toEqual([
          expect.objectContaining({ Effect: 'Allow', Action: [...IDENTITY_ACTIONS].sort() }),
        ]);
        expect(JSON.stringify(cognito[0]?.Resource)).toMatch(/IdentityUserPool[0-9A-F]+Arn/);
      },
    );

    it.each(LAMBDA_NAMES)(
      '%s may invoke the Titan embedding model, and is told to use it, only if it embeds',
      (name) => {
        const spec = HTTP_LAMBDAS[name] as { bedrock?: boolean; models?: boolean };
        const titan = statementsOf(name).filter((s) =>
          JSON.stringify(s.Resource).includes('foundation-model/amazon.titan-embed-text-v2:0'),
        );
        const variables = (
          propertiesOf(functionId(name)).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        if (!spec.bedrock) {
          expect(titan).toEqual([]);
          expect(variables.EMBEDDER).toBeUndefined();
          if (!spec.models) expect(actionsOf(name).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
          return;
        }
        expect(variables.EMBEDDER).toBe('titan');
        expect(titan).toEqual([
          {
            Effect: 'Allow',
            Action: 'bedrock:InvokeModel',
            Resource: `arn:aws:bedrock:${Stack.of(fixture.api).region}::foundation-model/amazon.titan-embed-text-v2:0`,
          },
        ]);
      },
    );

    it.each(LAMBDA_NAMES)('%s gets the table access its HTTP_LAMBDAS entry declares, never Scan', (name) => {
      const actions = actionsOf(name);
      const writes = [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ];
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt']));
      if (HTTP_LAMBDAS[name].table === 'readWrite') {
        expect(actions).toEqual(expect.arrayContaining([...writes, 'kms:Encrypt', 'kms:GenerateDataKey']));
      } else {
        expect(
          actions.filter(
            (a) => writes.includes(a) || a === 'kms:Encrypt' || a.startsWith('kms:GenerateDataKey'),
          ),
        ).toEqual([]);
      }
      expect(actions.filter((a) => a === 'dynamodb:Scan' || a.includes('*'))).toEqual([]);
    });

    it('gives the system Lambda read-only access to the table', () => {
      const actions = actionsOf('system').filter((a) => a.startsWith('dynamodb:') || a.startsWith('kms:'));
      expect([...new Set(actions)].sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'kms:Decrypt',
        'kms:DescribeKey',
      ]);
    });

    it('uses Resource "*" only for the X-Ray statement active tracing needs', () => {
      for (const name of LAMBDA_NAMES) {
        const wildcard = statementsOf(name).filter((s) => JSON.stringify(s.Resource).includes('*'));
        expect(wildcard).toEqual([
          { Effect: 'Allow', Resource: '*', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] },
        ]);
      }
    });

    it('lets DynamoDB use the key only on the caller’s behalf', () => {
      const region = Stack.of(fixture.api).region;
      for (const name of LAMBDA_NAMES) {
        const kms = statementsOf(name).filter((s) => JSON.stringify(s.Action).includes('kms:'));
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

  describe('observability', () => {
    it('alarms on API 5xx, on each Lambda’s errors and on table throttling, notifying the topic', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 1 + LAMBDA_NAMES.length + 1);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: '5xx',
        Namespace: 'AWS/ApiGateway',
      });
      for (const name of LAMBDA_NAMES) {
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
      const topicId = logicalIdOf(fixture.api, fixture.api.observability.alarmTopic);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect((alarm as Resource).Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      }
    });

    it('sends alarms to a topic that refuses plain HTTP publishers', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('has one dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });
  });

  it('is tagged with project and stage', () => {
    expect(fixture.api.tags.tagValues()).toEqual({ project: 'agent-platform', stage: 'dev' });
  });
});
