import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_PAGE_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingStep,
  PAGE_STATE_MACHINE_PLACEHOLDER,
} from '../../lambdas/handlers/workflow/monthly-billing-definition';
import { STEP_TIMEOUTS, SYNC_EXECUTION_EVENTS_RULE } from '../../lib/constructs/billing-workflow';
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
  Parameters?: Record<string, any>;
  ResultSelector?: Record<string, string>;
  ResultPath?: string;
  OutputPath?: string;
  Next?: string;
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

const ASL_TEXT = readFileSync(path.join(REPO_ROOT, MONTHLY_BILLING_DEFINITION), 'utf8');
const PAGE_ASL_TEXT = readFileSync(path.join(REPO_ROOT, MONTHLY_BILLING_PAGE_DEFINITION), 'utf8');
const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
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
  let pageMachineId: string;

  beforeAll(() => {
    fixture = buildPlatform('dev');
    template = Template.fromStack(fixture.workflows);
    resources = template.toJSON().Resources as Record<string, Resource>;
    machineId = logicalIdOf(fixture.workflows, fixture.workflows.billing.stateMachine);
    pageMachineId = logicalIdOf(fixture.workflows, fixture.workflows.billing.pageStateMachine);
  });

  const machine = () => resources[machineId] as Resource;
  const pageMachine = () => resources[pageMachineId] as Resource;
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
  function resolvedDefinition(of: Resource = machine(), file = ASL_TEXT): AslMachine {
    const substitutions = of.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const text = file.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
      const value = substitutions[name];
      if (value === undefined) throw new Error(`no substitution for ${name}`);
      return JSON.stringify(JSON.stringify(value)).slice(1, -1);
    });
    return JSON.parse(text) as AslMachine;
  }
  const resolvedPage = () => resolvedDefinition(pageMachine(), PAGE_ASL_TEXT);
  const allTasks = () => [...tasksOf(resolvedDefinition()), ...tasksOf(resolvedPage())];

  describe('state machine', () => {
    it('is a STANDARD machine, logging ALL with execution data to a group with retention, traced', () => {
      // The monthly billing run, its page machine, the action approvals and agent provisioning.
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
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
      expect(pageMachine().Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        StateMachineName: 'agent-platform-dev-monthly-billing-page',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      });
      expect(
        resources[logicalIdOf(fixture.workflows, fixture.workflows.billing.pageLogGroup)]?.Properties,
      ).toEqual({
        LogGroupName: '/aws/vendedlogs/states/agent-platform-dev-monthly-billing-page',
        RetentionInDays: fixture.config.logRetentionDays,
      });
    });

    it('deploys the ASL files as they are, from assets', () => {
      for (const [of, text] of [
        [machine(), ASL_TEXT],
        [pageMachine(), PAGE_ASL_TEXT],
      ] as const) {
        const location = of.Properties.DefinitionS3Location as { Key: string };
        expect(of.Properties.DefinitionString).toBeUndefined();
        const hash = location.Key.replace(/\.json$/, '');
        const staged = path.join(fixture.app.synth().directory, `asset.${hash}.json`);
        expect(readFileSync(staged, 'utf8')).toBe(text);
      }
    });

    it('substitutes every placeholder of the files: step Lambdas’ ARNs, and the page machine’s in the run', () => {
      const placeholdersOf = (text: string) =>
        [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))].sort();
      expect(placeholdersOf(ASL_TEXT)).toEqual(
        [PAGE_STATE_MACHINE_PLACEHOLDER, 'ListTenantsFunctionArn'].sort(),
      );
      expect(placeholdersOf(PAGE_ASL_TEXT)).toEqual([
        'ChargeMonthlyFeeFunctionArn',
        'SuspendTenantFunctionArn',
      ]);
      const arnOf = (step: MonthlyBillingStep) => ({ 'Fn::GetAtt': [functionId(step), 'Arn'] });
      expect(machine().Properties.DefinitionSubstitutions).toEqual({
        ListTenantsFunctionArn: arnOf('list-tenants'),
        [PAGE_STATE_MACHINE_PLACEHOLDER]: { Ref: pageMachineId },
      });
      expect(pageMachine().Properties.DefinitionSubstitutions).toEqual({
        ChargeMonthlyFeeFunctionArn: arnOf('charge-monthly-fee'),
        SuspendTenantFunctionArn: arnOf('suspend-tenant'),
      });
      const resourceOf = (state: AslState) =>
        state.Resource?.startsWith('{') ? JSON.parse(state.Resource) : state.Resource;
      expect(Object.fromEntries(allTasks().map((t) => [t.name, resourceOf(t.state)]))).toEqual({
        ListTenants: arnOf('list-tenants'),
        ChargePage: START_EXECUTION_SYNC,
        ContinueAsNew: START_EXECUTION_SYNC,
        ChargeMonthlyFee: arnOf('charge-monthly-fee'),
        SuspendTenant: arnOf('suspend-tenant'),
      });
      expect(JSON.stringify(resolvedDefinition())).not.toContain('${');
      expect(JSON.stringify(resolvedPage())).not.toContain('${');
      expect(STEPS.every(([p]) => ASL_TEXT.includes(`\${${p}}`) || PAGE_ASL_TEXT.includes(`\${${p}}`))).toBe(
        true,
      );
    });

    it('charges each page in an execution of the page machine, and continues the run as a new execution of itself', () => {
      const states = resolvedDefinition().States;
      const chargePage = states.ChargePage as AslState;
      expect(chargePage.Resource).toBe(START_EXECUTION_SYNC);
      expect(JSON.parse(chargePage.Parameters?.StateMachineArn)).toEqual({ Ref: pageMachineId });
      // Named by the run and the page (ListTenants derives it), so a retried start cannot start a second one.
      expect(chargePage.Parameters).toMatchObject({
        'Name.$': '$.pageExecutionName',
        Input: { 'period.$': '$.period', 'tenantIds.$': '$.tenantIds' },
      });
      expect(chargePage.ResultSelector).toEqual({
        'executionArn.$': '$.ExecutionArn',
        'results.$': '$.Output',
      });
      expect(chargePage.ResultPath).toBe('$.lastPage');
      const continueAsNew = states.ContinueAsNew as AslState;
      expect(continueAsNew.Resource).toBe(START_EXECUTION_SYNC);
      expect(continueAsNew.Parameters).toMatchObject({
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': '$.continuationName',
        Input: {
          'runId.$': '$.runId',
          'cursor.$': '$.cursor',
          'tally.$': '$.tally',
          'lastPage.$': '$.lastPage',
        },
      });
      // The first execution's output is the run's tally.
      expect(continueAsNew.OutputPath).toBe('$.Output');
      for (const state of [chargePage, continueAsNew]) {
        expect(state.TimeoutSeconds).toBeGreaterThan(0);
        for (const retrier of state.Retry ?? []) {
          expect(retrier.ErrorEquals.every((e) => e.startsWith('StepFunctions.'))).toBe(true);
          expect(retrier.MaxAttempts).toBeLessThanOrEqual(10);
        }
      }
      // The page execution outlives neither its Task's timeout nor the run's.
      expect(resolvedPage().TimeoutSeconds).toBeLessThan(chargePage.TimeoutSeconds as number);
    });

    it('uses JSONPath only and bounds the whole run with TimeoutSeconds', () => {
      for (const [definition, text] of [
        [resolvedDefinition(), ASL_TEXT],
        [resolvedPage(), PAGE_ASL_TEXT],
      ] as const) {
        expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
        expect(text).not.toMatch(/\{%|JSONata/);
        expect(definition.TimeoutSeconds).toBeGreaterThan(0);
        expect(definition.TimeoutSeconds).toBeLessThanOrEqual(24 * 3600);
      }
    });

    it('maps over each page of tenants with a bounded MaxConcurrency', () => {
      expect(Object.values(resolvedDefinition().States).filter((s) => s.Type === 'Map')).toEqual([]);
      const maps = Object.entries(resolvedPage().States).filter(([, s]) => s.Type === 'Map');
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
        const task = allTasks().find((t) => t.name === name);
        const retry = task?.state.Retry ?? [];
        const covered = retry.flatMap((r) => r.ErrorEquals);
        expect(covered).toEqual(expect.arrayContaining(LAMBDA_TRANSIENT_ERRORS));
        for (const retrier of retry) {
          expect(retrier.BackoffRate).toBeGreaterThan(1);
          expect(retrier.MaxAttempts).toBeLessThanOrEqual(10);
          expect(retrier.ErrorEquals).not.toContain('States.ALL');
        }
        const placeholder = [
          ...tasksOf(JSON.parse(ASL_TEXT) as AslMachine),
          ...tasksOf(JSON.parse(PAGE_ASL_TEXT) as AslMachine),
        ].find((t) => t.name === name)?.state.Resource;
        const step = STEPS.find(([p]) => placeholder === `\${${p}}`)?.[1].name as MonthlyBillingStep;
        const lambdaTimeout = resources[functionId(step)]?.Properties.Timeout as number;
        expect(lambdaTimeout).toBe(STEP_TIMEOUTS[step].toSeconds());
        expect(task?.state.TimeoutSeconds).toBeGreaterThan(lambdaTimeout);
      },
    );

    it('catches every error of a tenant’s steps inside the Map, so one tenant cannot fail the run', () => {
      const inMap = allTasks().filter((t) => t.inMap);
      expect(inMap.map((t) => t.name).sort()).toEqual(['ChargeMonthlyFee', 'SuspendTenant']);
      for (const { state } of inMap) {
        expect(state.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
      }
    });

    it('each machine may invoke exactly its step Lambdas, unqualified', () => {
      const invokeOf = (roleId: string) =>
        statementsOfRole(roleId).filter((s) => JSON.stringify(s.Action).includes('lambda:'));
      const arnOf = (step: MonthlyBillingStep) => ({ 'Fn::GetAtt': [functionId(step), 'Arn'] });
      expect(invokeOf(logicalIdOf(fixture.workflows, fixture.workflows.billing.stateMachine.role))).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf('list-tenants') },
      ]);
      const page = invokeOf(logicalIdOf(fixture.workflows, fixture.workflows.billing.pageStateMachine.role));
      expect(page).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [arnOf('charge-monthly-fee'), arnOf('suspend-tenant')],
        },
      ]);
    });

    it('the run may start, follow and stop only the page machine’s executions and its own (startExecution.sync:2)', () => {
      const statements = statementsOfRole(
        logicalIdOf(fixture.workflows, fixture.workflows.billing.stateMachine.role),
      );
      const nested = statements.filter((s) => JSON.stringify(s.Action).match(/states:|events:/));
      expect(nested).toEqual([
        {
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: [
            expect.objectContaining({ 'Fn::Join': expect.anything() }),
            expect.objectContaining({ 'Fn::Join': expect.anything() }),
          ],
        },
        {
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:StopExecution'],
          Resource: expect.any(Array),
        },
        {
          Effect: 'Allow',
          Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
          Resource: expect.anything(),
        },
      ]);
      const text = (value: unknown) => JSON.stringify(value).replace(/"/g, '');
      expect(((nested[0]?.Resource ?? []) as unknown[]).map(text).sort()).toEqual([
        expect.stringMatching(/:stateMachine:agent-platform-dev-monthly-billing-page\]\]\}$/),
        expect.stringMatching(/:stateMachine:agent-platform-dev-monthly-billing\]\]\}$/),
      ]);
      expect(((nested[1]?.Resource ?? []) as unknown[]).map(text).sort()).toEqual([
        expect.stringMatching(/:execution:agent-platform-dev-monthly-billing-page:\*\]\]\}$/),
        expect.stringMatching(/:execution:agent-platform-dev-monthly-billing:\*\]\]\}$/),
      ]);
      expect(text(nested[2]?.Resource)).toContain(`:rule/${SYNC_EXECUTION_EVENTS_RULE}`);
      // Nothing else but logs and X-Ray.
      const others = actionsOf(statements).filter(
        (a) => a !== 'lambda:InvokeFunction' && !a.startsWith('states:') && !a.startsWith('events:'),
      );
      expect(others.every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
      const pageActions = actionsOf(
        statementsOfRole(logicalIdOf(fixture.workflows, fixture.workflows.billing.pageStateMachine.role)),
      );
      expect(
        pageActions.every(
          (a) => a === 'lambda:InvokeFunction' || a.startsWith('logs:') || a.startsWith('xray:'),
        ),
      ).toBe(true);
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

    it('list-tenants may only Query the index that holds the tenant listing, under its TENANTS key', () => {
      const statements = statementsOf('list-tenants');
      const data = statements.filter((s) => JSON.stringify(s.Action).match(/dynamodb:|kms:/));
      expect(data).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [expect.anything(), '/index/gsi1']] },
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANTS'] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        },
        expect.objectContaining({
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:DescribeKey'],
          Condition: expect.anything(),
        }),
      ]);
      expect(actionsOf(statements).filter((a) => a.startsWith('events:'))).toEqual([]);
    });

    it.each(['charge-monthly-fee', 'suspend-tenant'] as const)(
      '%s reaches the table only as the tenant (the tenant-access role), and publishes to the platform bus only',
      (step) => {
        const statements = statementsOf(step);
        const actions = actionsOf(statements);
        // No platform-level keys: every item it touches is the tenant's.
        expect(actions.filter((a) => a.startsWith('dynamodb:') || a.startsWith('kms:'))).toEqual([]);
        expect(actions).toEqual(expect.arrayContaining(['sts:AssumeRole', 'sts:TagSession']));
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
          TENANT_ACCESS_ROLE_ARN: expect.anything(),
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

    it('acknowledges only the wildcards that logging, X-Ray and following the nested executions need, with reasons', () => {
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
      const pageRole = fixture.workflows.billing.pageStateMachine.role.node.path;
      const xRay = { id: 'AwsSolutions-IAM5[Resource::*]', reason: expect.stringMatching(/X-Ray/) };
      const executionsOf = (machineName: string) => ({
        path: machineRole,
        id: `AwsSolutions-IAM5[Resource::arn:aws:states:eu-west-1:<AWS::AccountId>:execution:${machineName}:*]`,
        reason: expect.stringMatching(/DescribeExecution and StopExecution/),
      });
      expect(acks.filter((ack) => ack.path === machineRole)).toEqual([
        { path: machineRole, ...xRay },
        executionsOf('agent-platform-dev-monthly-billing-page'),
        executionsOf('agent-platform-dev-monthly-billing'),
      ]);
      expect(acks.filter((ack) => ack.path === pageRole)).toEqual([{ path: pageRole, ...xRay }]);
      // The rest are the house Lambda's own (X-Ray on its role, the pinned runtime).
      const houseFunctions = Object.values(fixture.workflows.billing.functions).map((fn) => fn.node.path);
      for (const ack of acks.filter((a) => a.path !== machineRole && a.path !== pageRole)) {
        expect(houseFunctions.some((p) => ack.path.startsWith(`${p}/`))).toBe(true);
      }
      expect(Stack.of(fixture.workflows.billing).stackName).toBe(fixture.workflows.stackName);
    });
  });
});
