import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CLIENT_ACTIONS } from '../../lambdas/domain/realtime/protocol';
import { WEBSOCKET_SERVICES } from '../../lib/constructs/websocket-api';
import { buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe.each(['dev', 'prod'])('WebSocket API (%s)', (envName) => {
  let fixture: PlatformFixture;
  let template: Template;
  let resources: Record<string, Resource>;
  let stack: Stack;

  beforeAll(() => {
    fixture = buildPlatform(envName);
    stack = fixture.api;
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Record<string, Resource>;
  });

  const webSocketApiId = () =>
    Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties.ProtocolType === 'WEBSOCKET',
    )?.[0] as string;

  const statementsOfRole = (roleId: string): Statement[] =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);

  it('routes on the frame’s action: $connect, $disconnect, $default and one route per client action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    const apiRef = { Ref: webSocketApiId() };
    const keys = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .filter((r) => JSON.stringify(r.Properties.ApiId) === JSON.stringify(apiRef))
      .map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(['$connect', '$default', '$disconnect', ...CLIENT_ACTIONS].sort());
  });

  it('guards $connect, and only $connect, with the Lambda REQUEST authorizer', () => {
    const authorizers = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::ApiGatewayV2::Authorizer' && r.Properties.AuthorizerType === 'REQUEST',
    );
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] as [string, Resource];
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain('AuthorizerFunction');
    const routes = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::ApiGatewayV2::Route' &&
        JSON.stringify(r.Properties.ApiId).includes(webSocketApiId()),
    );
    for (const route of routes) {
      if (route.Properties.RouteKey === '$connect') {
        expect(route.Properties).toMatchObject({
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: authorizerId },
        });
      } else {
        expect(route.Properties.AuthorizerId).toBeUndefined();
      }
    }
  });

  it('logs access on its stage without tokens, and is throttled', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: webSocketApiId() },
      StageName: 'live',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
    });
    const stage = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::ApiGatewayV2::Stage' &&
        JSON.stringify(r.Properties.ApiId).includes(webSocketApiId()),
    ) as Resource;
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/token|querystring/i);
  });

  it('lets only the functions that publish turn events post to connections, on this API’s stage alone', () => {
    const api = fixture.api.realtime;
    const holders = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .filter(([roleId]) =>
        statementsOfRole(roleId).some((s) => [s.Action].flat().some((a) => a.startsWith('execute-api:'))),
      )
      .map(([roleId]) => roleId);
    const publishers = [
      api.messageFunction,
      fixture.api.api.functions.runtime,
      fixture.api.api.functions.actions,
      fixture.api.executions.worker,
      fixture.api.inbound.worker,
    ];
    expect(holders.sort()).toEqual(publishers.map((fn) => logicalIdOf(stack, fn.role)).sort());
    expect(api.postingFunctions).toHaveLength(publishers.length);
    for (const roleId of holders) {
      const statements = statementsOfRole(roleId).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('execute-api:')),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]?.Action).toBe('execute-api:ManageConnections');
      const resource = JSON.stringify(statements[0]?.Resource);
      expect(resource).toContain(webSocketApiId());
      expect(resource).toContain('/live/POST/@connections/*');
    }
  });

  it('gives the message Lambda the callback URL, the authorizer the user pool, and every function tenant access', () => {
    const api = fixture.api.realtime;
    const envOf = (fn: { function: { node: { defaultChild: unknown } } }) =>
      stack.resolve(
        (fn.function.node.defaultChild as { environment: { variables: Record<string, unknown> } })
          .environment,
      ).variables as Record<string, unknown>;
    expect(envOf(api.messageFunction).WEBSOCKET_CALLBACK_URL).toBeDefined();
    expect(envOf(api.authorizerFunction)).toMatchObject({
      IDENTITY_PROVIDER: 'cognito',
      USER_POOL_ID: expect.anything(),
    });
    expect(envOf(api.authorizerFunction).WEBSOCKET_CALLBACK_URL).toBeUndefined();
    expect(envOf(api.connectionFunction).WEBSOCKET_CALLBACK_URL).toBeUndefined();
    for (const fn of Object.values(api.functions())) expect(envOf(fn).TENANT_ACCESS_ROLE_ARN).toBeDefined();
    expect(Object.keys(api.functions()).sort()).toEqual(Object.values(WEBSOCKET_SERVICES).sort());
  });

  it('alarms on integration and execution errors, notifying the alarm topic', () => {
    for (const metricName of ['IntegrationError', 'ExecutionError']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApiGateway',
        MetricName: metricName,
        Dimensions: Match.arrayWith([{ Name: 'ApiId', Value: { Ref: webSocketApiId() } }]),
        AlarmActions: Match.anyValue(),
      });
    }
  });

  it('lets the approval step Lambda (workflow stack, deployed first) read the callback URL parameter and post on this stage', () => {
    const step = fixture.workflows.approvals.stepFunction;
    const parameterName = `/agent-platform/${fixture.config.stageName}/websocket-callback-url`;
    const stepEnv = fixture.workflows.resolve(
      (step.function.node.defaultChild as unknown as { environment: { variables: Record<string, unknown> } })
        .environment,
    ).variables as Record<string, unknown>;
    expect(stepEnv.WEBSOCKET_CALLBACK_URL_PARAMETER).toBe(parameterName);
    // A fixed name, never a reference: the workflow stack cannot refer to the API stack.
    expect(JSON.stringify(Template.fromStack(fixture.workflows).toJSON())).not.toContain(
      'websocket-callback-url"}',
    );

    const [parameterId] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === parameterName,
    ) as [string, Resource];
    expect(JSON.stringify(resources[parameterId]?.Properties.Value)).toContain(webSocketApiId());

    // The policy lives in this stack and names the step role (a reference to the earlier stack) alone.
    const stepRoleId = logicalIdOf(fixture.workflows, step.role);
    const policies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(stepRoleId),
    );
    expect(policies).toHaveLength(1);
    const policy = policies[0] as Resource;
    expect(policy.Properties.Roles).toHaveLength(1);
    const statements = policy.Properties.PolicyDocument.Statement as Statement[];
    expect(statements.map((s) => s.Action).sort()).toEqual([
      'execute-api:ManageConnections',
      'ssm:GetParameter',
    ]);
    const read = statements.find((s) => s.Action === 'ssm:GetParameter') as Statement;
    expect(JSON.stringify(read.Resource)).toContain(parameterId);
    const post = statements.find((s) => s.Action === 'execute-api:ManageConnections') as Statement;
    expect(JSON.stringify(post.Resource)).toContain(webSocketApiId());
    expect(JSON.stringify(post.Resource)).toContain('/live/POST/@connections/*');
  });
});
