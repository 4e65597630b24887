import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingStep,
} from '../../lambdas/handlers/workflow/monthly-billing-definition';
import { STEP_TIMEOUTS } from '../../lib/constructs/billing-workflow';
import {
  alarmTopicReference,
  buildPlatform,
  logicalIdOf,
  type PlatformFixture,
  REPO_ROOT,
} from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };
interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  MaxConcurrency?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number; IntervalSeconds?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: AslMachine;
}
interface AslMachine {
  StartAt: string;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  States: Record<string, AslState>;
}

const ASL_FILE = path.join(REPO_ROOT, MONTHLY_BILLING_DEFINITION);
const ASL_TEXT = readFileSync(ASL_FILE, 'utf8');
const STEPS = Object.entries(MONTHLY_BILLING_STEPS) as [
  keyof typeof MONTHLY_BILLING_STEPS,
  { name: MonthlyBillingStep; entry: string },
][];
const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Every Task state, nested ones included, with the Map state it runs in (if any). */
function tasksOf(machine: AslMachine, inMap?: string): { name: string; state: AslState; inMap?: string }[] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [{ name, state, ...(inMap ? { inMap } : {}) }] : []),
    ...(state.ItemProcessor ? tasksOf(state.ItemProcessor, name) : []),
  ]);
}

describe('monthly billing workflow (workflow stack)', () => {
  let fixture: PlatformFixture;
  let template: Template;
  let resources: Record<string, Resource>;
  let machineId: string;

  beforeAll(() => {
    fixture = buildPlatform('dev');
    template = Template.fromStack(fixture.workflows);
    resources = template.toJSON().Resources as Record<string, Resource>;
    machineId = logicalIdOf(fixture.workflows, fixture.workflows.billing.stateMachine);
  });

  const machine = () => resources[machineId] as Resource;
  const functionId = (step: MonthlyBillingStep) =>
    logicalIdOf(fixture.workflows, fixture.workflows.billing.functions[step].function);
  function statementsOfRole(roleId: string): Statement[] {
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
  }
  const statementsOf = (step: MonthlyBillingStep) =>
    statementsOfRole(logicalIdOf(fixture.workflows, fixture.workflows.billing.functions[step].role));
  const actionsOf = (statements: Statement[]) =>
    statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

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

  describe('state machine', () => {
    it('is a STANDARD machine, logging ALL with execution data to a group with retention, traced', () => {
      // The monthly billing run and the action approvals.
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
      expect(machine().Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        StateMachineName: 'agent-platform-dev-monthly-billing',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [
            {
              CloudWatchLogsLogGroup: {
                LogGroupArn: {
                  'Fn::GetAtt': [logicalIdOf(fixture.workflows, fixture.workflows.billing.logGroup), 'Arn'],
                },
              },
            },
          ],
        },
      });
      expect(
        resources[logicalIdOf(fixture.workflows, fixture.workflows.billing.logGroup)]?.Properties,
      ).toEqual({
        LogGroupName: '/aws/vendedlogs/states/agent-platform-dev-monthly-billing',
        RetentionInDays: fixture.config.logRetentionDays,
      });
    });

    it('deploys the ASL file as it is, from an asset', () => {
      const location = machine().Properties.DefinitionS3Location as { Key: string };
      expect(machine().Properties.DefinitionString).toBeUndefined();
      const hash = location.Key.replace(/\.json$/, '');
      const staged = path.join(fixture.app.synth().directory, `asset.${hash}.json`);
      expect(readFileSync(staged, 'utf8')).toBe(ASL_TEXT);
    });

    it('substitutes every placeholder of the file, each with its step Lambda’s ARN', () => {
      const placeholders = [...ASL_TEXT.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
      expect([...new Set(placeholders)].sort()).toEqual(STEPS.map(([p]) => p).sort());
      expect(machine().Properties.DefinitionSubstitutions).toEqual(
        Object.fromEntries(STEPS.map(([p, step]) => [p, { 'Fn::GetAtt': [functionId(step.name), 'Arn'] }])),
      );
      const tasks = tasksOf(resolvedDefinition());
      expect(Object.fromEntries(tasks.map((t) => [t.name, JSON.parse(t.state.Resource ?? '')]))).toEqual({
        ListTenants: { 'Fn::GetAtt': [functionId('list-tenants'), 'Arn'] },
        ChargeMonthlyFee: { 'Fn::GetAtt': [functionId('charge-monthly-fee'), 'Arn'] },
        SuspendTenant: { 'Fn::GetAtt': [functionId('suspend-tenant'), 'Arn'] },
      });
      expect(JSON.stringify(resolvedDefinition())).not.toContain('${');
    });

    it('uses JSONPath only and bounds the whole run with TimeoutSeconds', () => {
      const definition = resolvedDefinition();
      expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(ASL_TEXT).not.toMatch(/\{%|JSONata/);
      expect(definition.TimeoutSeconds).toBeGreaterThan(0);
      expect(definition.TimeoutSeconds).toBeLessThanOrEqual(24 * 3600);
    });

    it('maps over each page of tenants with a bounded MaxConcurrency', () => {
      const maps = Object.entries(resolvedDefinition().States).filter(([, s]) => s.Type === 'Map');
      expect(maps).toHaveLength(1);
      const [, map] = maps[0] as [string, AslState];
      expect(map).toMatchObject({
        ItemsPath: '$.tenantIds',
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } },
      });
      expect(map.MaxConcurrency).toBeGreaterThanOrEqual(1);
      expect(map.MaxConcurrency).toBeLessThanOrEqual(10);
    });

    it.each(['ListTenants', 'ChargeMonthlyFee', 'SuspendTenant'])(
      '%s retries Lambda’s transient errors with backoff, and times out after its Lambda would',
      (name) => {
        const task = tasksOf(resolvedDefinition()).find((t) => t.name === name);
        const retry = task?.state.Retry ?? [];
        const covered = retry.flatMap((r) => r.ErrorEquals);
        expect(covered).toEqual(expect.arrayContaining(LAMBDA_TRANSIENT_ERRORS));
        for (const retrier of retry) {
          expect(retrier.BackoffRate).toBeGreaterThan(1);
          expect(retrier.MaxAttempts).toBeLessThanOrEqual(10);
          expect(retrier.ErrorEquals).not.toContain('States.ALL');
        }
        const placeholder = tasksOf(JSON.parse(ASL_TEXT) as AslMachine).find((t) => t.name === name)?.state
          .Resource;
        const step = STEPS.find(([p]) => placeholder === `\${${p}}`)?.[1].name as MonthlyBillingStep;
        const lambdaTimeout = resources[functionId(step)]?.Properties.Timeout as number;
        expect(lambdaTimeout).toBe(STEP_TIMEOUTS[step].toSeconds());
        expect(task?.state.TimeoutSeconds).toBeGreaterThan(lambdaTimeout);
      },
    );

    it('catches every error of a tenant’s steps inside the Map, so one tenant cannot fail the run', () => {
      const inMap = tasksOf(resolvedDefinition()).filter((t) => t.inMap);
      expect(inMap.map((t) => t.name).sort()).toEqual(['ChargeMonthlyFee', 'SuspendTenant']);
      for (const { state } of inMap) {
        expect(state.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
      }
    });

    it('may invoke exactly the three step Lambdas, unqualified, and nothing else but logs and X-Ray', () => {
      const roleId = logicalIdOf(fixture.workflows, fixture.workflows.billing.stateMachine.role);
      const statements = statementsOfRole(roleId);
      const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
      expect(invoke).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: expect.arrayContaining(
            STEPS.map(([, step]) => ({ 'Fn::GetAtt': [functionId(step.name), 'Arn'] })),
          ),
        },
      ]);
      expect(invoke[0]!.Resource as unknown[]).toHaveLength(3);
      const others = actionsOf(statements).filter((a) => a !== 'lambda:InvokeFunction');
      expect(others.every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    });
  });

  describe('schedule', () => {
    it('starts the machine at 00:05 UTC on the 1st of each month with the scheduled time as input', () => {
      template.resourceCountIs('AWS::Scheduler::Schedule', 1);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(5 0 1 * ? *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        GroupName: 'agent-platform-dev-billing',
        Target: {
          Arn: { Ref: machineId },
          Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
        },
      });
      const [scheduleId] = Object.keys(template.findResources('AWS::Scheduler::Schedule'));
      expect(resources[scheduleId as string]?.DependsOn).toContain(
        logicalIdOf(fixture.workflows, fixture.workflows.billing.scheduleGroup),
      );
    });

    it('runs as a role that may start this machine and nothing else', () => {
      const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule')) as Resource[];
      const roleArn = schedule!.Properties.Target.RoleArn as { 'Fn::GetAtt': [string, string] };
      const roleId = roleArn['Fn::GetAtt'][0];
      expect(statementsOfRole(roleId)).toEqual([
        { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } },
      ]);
    });
  });

  describe('step Lambdas', () => {
    it('are house Lambdas: Node.js 22 on arm64, traced, JSON logs, their own timeouts', () => {
      for (const [, step] of STEPS) {
        expect(resources[functionId(step.name)]?.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON' },
          Timeout: STEP_TIMEOUTS[step.name].toSeconds(),
        });
      }
    });

    it('list-tenants may only Query the index that holds the tenant listing', () => {
      const statements = statementsOf('list-tenants');
      const data = statements.filter((s) => JSON.stringify(s.Action).match(/dynamodb:|kms:/));
      expect(data).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [expect.anything(), '/index/gsi1']] },
        },
        expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt', Condition: expect.anything() }),
      ]);
      expect(actionsOf(statements).filter((a) => a.startsWith('events:'))).toEqual([]);
    });

    it.each(['charge-monthly-fee', 'suspend-tenant'] as const)(
      '%s writes the table and publishes to the platform bus only, never Scan',
      (step) => {
        const statements = statementsOf(step);
        const actions = actionsOf(statements);
        expect(actions).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:PutItem']));
        expect(actions.filter((a) => a === 'dynamodb:Scan' || a.includes('*'))).toEqual([]);
        const events = statements.filter((s) => JSON.stringify(s.Action).includes('events:'));
        expect(events).toEqual([
          {
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: {
              'Fn::GetStackOutput': expect.objectContaining({ StackName: fixture.stateful.stackName }),
            },
          },
        ]);
        const variables = resources[functionId(step)]?.Properties.Environment.Variables;
        expect(variables).toMatchObject({
          TOKEN_COSTS: JSON.stringify(fixture.config.tokenCosts),
          EVENT_BUS_NAME: expect.anything(),
          TABLE_NAME: expect.anything(),
        });
      },
    );
  });

  describe('alarms', () => {
    const topicRef = () => alarmTopicReference(fixture);

    it.each([
      ['ExecutionsFailed', 'AWS/States'],
      ['ExecutionsTimedOut', 'AWS/States'],
      ['InvocationDroppedCount', 'AWS/Scheduler'],
    ])('alarms on %s and notifies the alarm topic', (metricName, namespace) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: namespace,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef()],
        OKActions: [topicRef()],
      });
    });

    it('alarms on the errors of every step Lambda (a tenant that failed is caught, not lost)', () => {
      for (const [, step] of STEPS) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(step.name) } }],
          AlarmActions: [topicRef()],
        });
      }
    });
  });

  describe('cdk-nag', () => {
    it('finds nothing unacknowledged in the workflow', () => {
      const violations = new AwsSolutionsChecks().validateScope(fixture.workflows.billing).violations;
      expect(
        violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
      ).toEqual([]);
    });

    it('acknowledges only the wildcard that logging and X-Ray need, on the state machine role, with a reason', () => {
      const acks = fixture.workflows.billing.node.findAll().flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) =>
            Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
              path: construct.node.path,
              id: id.replace(/^annotation::/i, ''),
              reason,
            })),
          ),
      );
      const machineRole = fixture.workflows.billing.stateMachine.role.node.path;
      const onMachine = acks.filter((ack) => ack.path === machineRole);
      expect(onMachine).toEqual([
        { path: machineRole, id: 'AwsSolutions-IAM5[Resource::*]', reason: expect.stringMatching(/X-Ray/) },
      ]);
      // The rest are the house Lambda's own (X-Ray on its role, the pinned runtime).
      const houseFunctions = Object.values(fixture.workflows.billing.functions).map((fn) => fn.node.path);
      for (const ack of acks.filter((a) => a.path !== machineRole)) {
        expect(houseFunctions.some((p) => ack.path.startsWith(`${p}/`))).toBe(true);
      }
      expect(Stack.of(fixture.workflows.billing).stackName).toBe(fixture.workflows.stackName);
    });
  });
});
