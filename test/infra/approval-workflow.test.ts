import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  APPROVAL_DEFINITION,
  APPROVAL_STEP_FUNCTION,
  WAIT_FOR_DECISION_STATE,
} from '../../lambdas/handlers/workflow/approval-definition';
import type { EnvironmentConfig } from '../../lib/config';
import { APPROVAL_STEP_TIMEOUT, ApprovalWorkflow } from '../../lib/constructs/approval-workflow';
import { DataTable } from '../../lib/constructs/data-table';
import { PlatformHttpApi } from '../../lib/constructs/http-api';
import { HTTP_LAMBDAS } from '../../lib/http-lambdas';
import { buildPlatform, logicalIdOf, type PlatformFixture, REPO_ROOT } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };
interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, string> };
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  ResultPath?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Next?: string;
}
interface AslMachine {
  StartAt: string;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  States: Record<string, AslState>;
}

const ASL_TEXT = readFileSync(path.join(REPO_ROOT, APPROVAL_DEFINITION), 'utf8');
const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('approval workflow (workflow stack)', () => {
  let fixture: PlatformFixture;
  let resources: Record<string, Resource>;
  let machineId: string;
  let stepId: string;

  beforeAll(() => {
    fixture = buildPlatform('dev');
    resources = Template.fromStack(fixture.workflows).toJSON().Resources as Record<string, Resource>;
    machineId = logicalIdOf(fixture.workflows, fixture.workflows.approvals.stateMachine);
    stepId = logicalIdOf(fixture.workflows, fixture.workflows.approvals.stepFunction.function);
  });

  const machine = () => resources[machineId] as Resource;
  function statementsOfRole(roleId: string): Statement[] {
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
      )
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
  }
  const stepStatements = () =>
    statementsOfRole(logicalIdOf(fixture.workflows, fixture.workflows.approvals.stepFunction.role));

  /** The definition as Step Functions will run it: the file with the template's substitutions. */
  function resolvedDefinition(): AslMachine {
    const substitutions = machine().Properties.DefinitionSubstitutions as Record<string, unknown>;
    const text = ASL_TEXT.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
      const value = substitutions[name];
      if (value === undefined) throw new Error(`no substitution for ${name}`);
      return JSON.stringify(JSON.stringify(value)).slice(1, -1);
    });
    return JSON.parse(text) as AslMachine;
  }
  const tasks = () => Object.entries(resolvedDefinition().States).filter(([, s]) => s.Type === 'Task');

  describe('state machine', () => {
    it('is a STANDARD machine, logging ALL with execution data to its own group, traced', () => {
      expect(machine().Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        StateMachineName: 'agent-platform-dev-approval',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [
            {
              CloudWatchLogsLogGroup: {
                LogGroupArn: {
                  'Fn::GetAtt': [logicalIdOf(fixture.workflows, fixture.workflows.approvals.logGroup), 'Arn'],
                },
              },
            },
          ],
        },
      });
      expect(
        resources[logicalIdOf(fixture.workflows, fixture.workflows.approvals.logGroup)]?.Properties,
      ).toEqual({
        LogGroupName: '/aws/vendedlogs/states/agent-platform-dev-approval',
        RetentionInDays: fixture.config.logRetentionDays,
      });
    });

    it('deploys the ASL file as it is, from an asset, JSONPath only', () => {
      const location = machine().Properties.DefinitionS3Location as { Key: string };
      const hash = location.Key.replace(/\.json$/, '');
      const staged = path.join(fixture.app.synth().directory, `asset.${hash}.json`);
      expect(readFileSync(staged, 'utf8')).toBe(ASL_TEXT);
      expect(resolvedDefinition().QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(ASL_TEXT).not.toMatch(/\{%|JSONata/);
      expect(resolvedDefinition().TimeoutSeconds).toBeGreaterThan(0);
    });

    it('substitutes its one placeholder with the step Lambda, the FunctionName of every Task', () => {
      const placeholders = new Set([...ASL_TEXT.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
      expect([...placeholders]).toEqual([APPROVAL_STEP_FUNCTION.placeholder]);
      expect(machine().Properties.DefinitionSubstitutions).toEqual({
        [APPROVAL_STEP_FUNCTION.placeholder]: { 'Fn::GetAtt': [stepId, 'Arn'] },
      });
      expect(tasks().length).toBeGreaterThanOrEqual(6);
      for (const [, state] of tasks()) {
        expect(state.Resource).toMatch(/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/);
        expect(JSON.parse(state.Parameters?.FunctionName ?? '')).toEqual({ 'Fn::GetAtt': [stepId, 'Arn'] });
        expect(state.Parameters?.Payload?.step).toEqual(expect.any(String));
      }
    });

    it('waits for the decision with a task token, explicit TimeoutSeconds and HeartbeatSeconds, and expires on States.Timeout', () => {
      const wait = resolvedDefinition().States[WAIT_FOR_DECISION_STATE] as AslState;
      expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(wait.Parameters?.Payload).toMatchObject({ step: 'wait', 'taskToken.$': '$$.Task.Token' });
      expect(wait.ResultPath).toBe('$.decision');
      expect(wait.TimeoutSeconds).toBe(82_800);
      expect(wait.HeartbeatSeconds).toBeGreaterThan(0);
      expect(wait.HeartbeatSeconds).toBeLessThan(wait.TimeoutSeconds as number);
      const onTimeout = wait.Catch?.find((c) => c.ErrorEquals.includes('States.Timeout'));
      const expire = resolvedDefinition().States[onTimeout?.Next ?? ''];
      expect(expire?.Parameters?.Payload).toMatchObject({ step: 'close', outcome: 'expired' });
      expect(wait.Catch?.find((c) => c.ErrorEquals.includes('States.HeartbeatTimeout'))?.Next).toBe(
        'CheckDecision',
      );
      // On AWS `States.Timeout` also matches a missed heartbeat, and the first matching catcher wins:
      // the check-in's catcher must come first, or every check-in would expire the approval.
      const catchers = (wait.Catch ?? []).map((c) => c.ErrorEquals[0]);
      expect(catchers.indexOf('States.HeartbeatTimeout')).toBeLessThan(catchers.indexOf('States.Timeout'));
      // A timeout is never retried: it is the expiry.
      expect((wait.Retry ?? []).flatMap((r) => r.ErrorEquals)).not.toContain('States.Timeout');
    });

    it('gives every Task a TimeoutSeconds above the Lambda’s, and retries Lambda’s transient errors with backoff', () => {
      const lambdaTimeout = resources[stepId]?.Properties.Timeout as number;
      expect(lambdaTimeout).toBe(APPROVAL_STEP_TIMEOUT.toSeconds());
      for (const [name, state] of tasks()) {
        expect([name, state.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
        expect(state.TimeoutSeconds).toBeGreaterThan(lambdaTimeout);
        const covered = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
        expect([name, covered]).toEqual([name, expect.arrayContaining(LAMBDA_TRANSIENT_ERRORS)]);
        for (const retrier of state.Retry ?? []) {
          expect(retrier.BackoffRate).toBeGreaterThan(1);
          expect(retrier.MaxAttempts).toBeLessThanOrEqual(10);
          expect(retrier.ErrorEquals).not.toContain('States.ALL');
        }
      }
    });

    it('executes an approved action, and releases it as failed when the executor fails', () => {
      const execute = resolvedDefinition().States.ExecuteAction as AslState;
      expect(execute.Parameters?.Payload).toMatchObject({ step: 'execute' });
      const onFailure = execute.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(resolvedDefinition().States[onFailure?.Next ?? '']?.Parameters?.Payload).toMatchObject({
        step: 'close',
        outcome: 'failed',
      });
    });

    it('may invoke exactly the step Lambda, unqualified, and nothing else but logs and X-Ray', () => {
      const statements = statementsOfRole(
        logicalIdOf(fixture.workflows, fixture.workflows.approvals.stateMachine.role),
      );
      const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
      expect(invoke).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [stepId, 'Arn'] } },
      ]);
      const others = actionsOf(statements).filter((a) => a !== 'lambda:InvokeFunction');
      expect(others.every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    });
  });

  describe('step Lambda', () => {
    it('is a house Lambda with the table, the bus, the token costs and its machine’s ARN', () => {
      expect(resources[stepId]?.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Timeout: APPROVAL_STEP_TIMEOUT.toSeconds(),
      });
      const variables = resources[stepId]?.Properties.Environment.Variables;
      expect(variables).toMatchObject({
        TABLE_NAME: expect.anything(),
        EVENT_BUS_NAME: expect.anything(),
        TOKEN_COSTS: JSON.stringify(fixture.config.tokenCosts),
        OUTBOUND_MODE: 'live',
        TENANT_SECRETS_PREFIX: 'agent-platform/dev',
      });
      // Built from the name, not a reference: the machine already references the Lambda.
      expect(JSON.stringify(variables.APPROVAL_STATE_MACHINE_ARN)).toContain(
        ':stateMachine:agent-platform-dev-approval',
      );
    });

    it('writes the table, publishes to the bus, answers its own machine’s tasks and sends outbound, nothing more', () => {
      const statements = stepStatements();
      const actions = actionsOf(statements);
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
      expect(actions.filter((a) => a === 'dynamodb:Scan' || a.includes('*'))).toEqual([]);
      const events = statements.filter((s) => JSON.stringify(s.Action).includes('events:'));
      expect(events).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: expect.anything() }]);
      const states = statements.filter((s) => JSON.stringify(s.Action).includes('states:'));
      expect(states).toHaveLength(1);
      expect(states[0]?.Action).toEqual([
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
        'states:SendTaskSuccess',
      ]);
      expect(JSON.stringify(states[0]?.Resource)).toContain(':stateMachine:agent-platform-dev-approval');
      expect(actions).not.toContain('states:StartExecution');
      expectOutboundGrants(statements, false);
    });
  });

  describe('cdk-nag', () => {
    it('finds nothing unacknowledged in the workflow', () => {
      const violations = new AwsSolutionsChecks().validateScope(fixture.workflows.approvals).violations;
      expect(
        violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
      ).toEqual([]);
    });

    it('acknowledges only exact findings, each with a reason', () => {
      const acks = fixture.workflows.approvals.node.findAll().flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) =>
            Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
              id: id.replace(/^annotation::/i, ''),
              reason,
            })),
          ),
      );
      expect(acks.map((a) => a.id).sort()).toEqual(
        [
          'AwsSolutions-IAM5[Resource::*]',
          'AwsSolutions-IAM5[Resource::*]',
          'AwsSolutions-L1',
          `AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:eu-west-1:<AWS::AccountId>:secret:agent-platform/dev/tenants/*]`,
          'AwsSolutions-IAM5[Resource::arn:aws:ses:eu-west-1:<AWS::AccountId>:identity/*]',
        ].sort(),
      );
      for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(40);
    });
  });
});

/** SES on the account's identities, the stage's tenant secrets, Connect only on the configured instance. */
function expectOutboundGrants(statements: Statement[], connect: boolean | string): void {
  const of = (action: string) => statements.filter((s) => JSON.stringify(s.Action).includes(action));
  const flat = (value: unknown) => JSON.stringify(value);
  expect(of('ses:')).toHaveLength(1);
  expect(of('ses:')[0]?.Action).toBe('ses:SendEmail');
  expect(flat(of('ses:')[0]?.Resource)).toMatch(/:ses:eu-west-1:.*:identity\/\*/);
  // The other secret statement is the listing cursors' signing key, which every table reader gets.
  // (Channel settings' own write grant on `…/channels/*` is checked in api-stack.test.ts.)
  const tenantSecrets = of('secretsmanager:').filter(
    (s) => flat(s.Resource).includes(':secret:') && !flat(s.Resource).includes('/channels/*'),
  );
  expect(tenantSecrets).toHaveLength(1);
  expect(tenantSecrets[0]?.Action).toBe('secretsmanager:GetSecretValue');
  expect(flat(tenantSecrets[0]?.Resource)).toContain(':secret:agent-platform/dev/tenants/*');
  if (!connect) {
    expect(of('connect:')).toEqual([]);
  } else {
    expect(of('connect:')).toHaveLength(1);
    expect(of('connect:')[0]?.Action).toBe('connect:StartOutboundVoiceContact');
    expect(flat(of('connect:')[0]?.Resource)).toContain(`:instance/${connect}/contact/*`);
  }
}

describe('the HTTP_LAMBDAS approvalWorkflow and outbound flags', () => {
  const INSTANCE = '11111111-2222-3333-4444-555555555555';
  const FLOW = '66666666-7777-8888-9999-000000000000';
  const lambdas = HTTP_LAMBDAS as Record<string, object>;
  const declared = { ...lambdas };

  // Every entry sets both flags here, as the lead's runtime and actions Lambdas will.
  beforeEach(() => {
    for (const [name, spec] of Object.entries(declared))
      lambdas[name] = { ...spec, approvalWorkflow: true, outbound: true };
  });
  afterEach(() => Object.assign(lambdas, declared));

  /** A PlatformHttpApi in a stack of its own, with an approval workflow (or none). */
  function flaggedApi(withWorkflow: boolean) {
    const config: EnvironmentConfig = {
      ...buildPlatform('dev').config,
      outbound: {
        sesFromAddress: 'no-reply@example.com',
        connectInstanceId: INSTANCE,
        connectContactFlowId: FLOW,
      },
    };
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Flags', { env: { region: 'eu-west-1' } });
    const data = new DataTable(stack, 'Data', {
      removalPolicy: RemovalPolicy.DESTROY,
      pointInTimeRecovery: true,
      deletionProtection: false,
    });
    const eventBus = new EventBus(stack, 'Bus');
    const approvals = new ApprovalWorkflow(stack, 'Approvals', { config, data, eventBus });
    const build = () =>
      new PlatformHttpApi(stack, 'Http', {
        config,
        data,
        userPool: UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_abcdefghi'),
        userPoolClient: UserPoolClient.fromUserPoolClientId(stack, 'Client', 'client'),
        issuerUrl: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abcdefghi',
        executionQueue: Queue.fromQueueArn(stack, 'Queue', 'arn:aws:sqs:eu-west-1:123456789012:executions'),
        inboundQueue: Queue.fromQueueArn(stack, 'Inbound', 'arn:aws:sqs:eu-west-1:123456789012:inbound.fifo'),
        eventBus,
        ...(withWorkflow ? { approvalWorkflow: approvals } : {}),
      });
    return { build, stack, approvals };
  }

  it('gives a flagged Lambda the machine’s ARN, StartExecution on it and the task responses, and the outbound settings and grants', () => {
    const { build, stack, approvals } = flaggedApi(true);
    const api = build();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
    const machineRef = { Ref: logicalIdOf(stack, approvals.stateMachine) };
    expect(Object.keys(api.functions).length).toBeGreaterThan(0);
    for (const fn of Object.values(api.functions)) {
      const variables = resources[logicalIdOf(stack, fn.function)]?.Properties.Environment.Variables;
      expect(variables).toMatchObject({
        APPROVAL_STATE_MACHINE_ARN: machineRef,
        OUTBOUND_MODE: 'live',
        TENANT_SECRETS_PREFIX: 'agent-platform/dev',
        SES_FROM_ADDRESS: 'no-reply@example.com',
        CONNECT_INSTANCE_ID: INSTANCE,
        CONNECT_CONTACT_FLOW_ID: FLOW,
      });
      const roleId = logicalIdOf(stack, fn.role);
      const statements = Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .filter((r) => JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
      const states = statements.filter((s) => JSON.stringify(s.Action).includes('states:'));
      expect(states.map((s) => s.Resource)).toEqual(states.map(() => machineRef));
      expect(actionsOf(states).sort()).toEqual([
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
        'states:SendTaskSuccess',
        'states:StartExecution',
      ]);
      expectOutboundGrants(statements, INSTANCE);
    }
    const wildcards = new AwsSolutionsChecks()
      .validateScope(api)
      .violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'));
    expect(wildcards.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual(
      [],
    );
  });

  it('refuses the approvalWorkflow flag without a workflow', () => {
    const { build } = flaggedApi(false);
    expect(build).toThrow(/runs approval workflows, but no approval workflow was given/);
  });
});
