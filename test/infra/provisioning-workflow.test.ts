import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  PROVISION_DEFINITION,
  PROVISION_STEP_FUNCTION,
} from '../../lambdas/handlers/workflow/provision-definition';
import { PROVISION_STEP_TIMEOUT } from '../../lib/constructs/provisioning-workflow';
import { buildPlatform, logicalIdOf, type PlatformFixture, REPO_ROOT } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
interface AslState {
  Type: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> };
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number; IntervalSeconds?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  MaxConcurrency?: number;
  ItemProcessor?: { States: Record<string, AslState> };
}

const ASL_TEXT = readFileSync(path.join(REPO_ROOT, PROVISION_DEFINITION), 'utf8');
const CONNECT_INSTANCE = '11111111-2222-3333-4444-555555555555';

function statementsOf(resources: Record<string, Resource>, roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) =>
      (r.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('provisioning workflow (workflow stack)', () => {
  let fixture: PlatformFixture;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    fixture = buildPlatform('dev', {
      configOverrides: { outbound: { connectInstanceId: CONNECT_INSTANCE } } as never,
    });
    resources = Template.fromStack(fixture.workflows).toJSON().Resources as Record<string, Resource>;
  });

  const machine = () =>
    resources[logicalIdOf(fixture.workflows, fixture.workflows.provisioning.stateMachine)] as Resource;
  function definition(): {
    States: Record<string, AslState>;
    TimeoutSeconds?: number;
    QueryLanguage?: string;
  } {
    const substitutions = machine().Properties.DefinitionSubstitutions as Record<string, unknown>;
    return JSON.parse(
      ASL_TEXT.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
        const value = substitutions[name];
        if (value === undefined) throw new Error(`no substitution for ${name}`);
        return JSON.stringify(JSON.stringify(value)).slice(1, -1);
      }),
    );
  }
  const allStates = () => {
    const top = definition().States;
    return {
      ...top,
      ...Object.fromEntries(Object.values(top).flatMap((s) => Object.entries(s.ItemProcessor?.States ?? {}))),
    } as Record<string, AslState>;
  };

  it('is a STANDARD, traced machine with its own log group, from the ASL file, JSONPath, with a timeout', () => {
    expect(machine().Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      StateMachineName: 'agent-platform-dev-provision-agent',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL' },
    });
    expect(definition().QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(definition().TimeoutSeconds).toBeGreaterThan(0);
  });

  it('every Task invokes the one step Lambda (by substitution) with a TimeoutSeconds above the Lambda’s', () => {
    const stepArn = JSON.stringify(
      fixture.workflows.resolve(fixture.workflows.provisioning.stepFunction.function.functionArn),
    );
    const tasks = Object.entries(allStates()).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      ['BeginCompensation', 'Complete', 'Fail', 'Plan', 'RecordUndoFailure', 'RunStep', 'Undo'].sort(),
    );
    for (const [, task] of tasks) {
      expect(task.Parameters?.FunctionName).toBe(stepArn);
      expect(task.TimeoutSeconds ?? 0).toBeGreaterThan(PROVISION_STEP_TIMEOUT.toSeconds());
    }
    expect(machine().Properties.DefinitionSubstitutions).toHaveProperty(PROVISION_STEP_FUNCTION.placeholder);
  });

  it('runs and undoes steps one at a time, retries throttling with backoff, compensates on any failure', () => {
    const states = definition().States;
    expect(states.RunSteps?.MaxConcurrency).toBe(1);
    expect(states.Compensate?.MaxConcurrency).toBe(1);
    expect(states.RunSteps?.Catch?.[0]).toEqual(
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'BeginCompensation' }),
    );
    const run = allStates().RunStep as AslState;
    const throttled = run.Retry?.find((r) => r.ErrorEquals.includes('Provisioning.THROTTLED'));
    expect(throttled).toMatchObject({ BackoffRate: 2 });
    expect(throttled?.MaxAttempts).toBeGreaterThanOrEqual(5);
    expect(run.Retry?.some((r) => r.ErrorEquals.includes('Provisioning.STEP_FAILED'))).toBe(false);
    const undo = allStates().Undo as AslState;
    expect(undo.Catch?.[0]?.Next).toBe('RecordUndoFailure');
    expect(undo.Retry?.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
  });

  it('lets the step Lambda claim and release numbers and flows on the one Connect instance, and SES identities', () => {
    const role = logicalIdOf(fixture.workflows, fixture.workflows.provisioning.stepFunction.role);
    const statements = statementsOf(resources, role);
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining([
        'connect:ClaimPhoneNumber',
        'connect:ReleasePhoneNumber',
        'connect:CreateContactFlow',
        'connect:DeleteContactFlow',
        'connect:AssociatePhoneNumberContactFlow',
        'ses:CreateEmailIdentity',
      ]),
    );
    const connect = statements.find((s) => actionsOf([s]).includes('connect:ClaimPhoneNumber'));
    expect(JSON.stringify(connect?.Resource)).toContain(`instance/${CONNECT_INSTANCE}`);
    // Only X-Ray's statement (which has no resource-level permissions) is on every resource.
    expect(
      statements
        .filter((s) => s.Resource === '*')
        .flatMap((s) => actionsOf([s]))
        .every((a) => a.startsWith('xray:')),
    ).toBe(true);
  });

  it('lets the agents Lambda start it and release (never claim) what it made', () => {
    const api = Template.fromStack(fixture.api).toJSON().Resources as Record<string, Resource>;
    const agents = fixture.api.api.functions.agents;
    const statements = statementsOf(api, logicalIdOf(fixture.api, agents.role as never));
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'connect:ReleasePhoneNumber']));
    expect(actions).not.toContain('connect:ClaimPhoneNumber');
    const env = (Object.values(api).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties.Environment ?? {}).includes('PROVISIONING_STATE_MACHINE_ARN'),
    )?.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
    expect(env.PROVISIONING_STATE_MACHINE_ARN).toBeDefined();
  });

  it('cdk-nag finds nothing unacknowledged in it', () => {
    const violations = new AwsSolutionsChecks().validateScope(fixture.workflows.provisioning).violations;
    expect(
      violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

describe('provisioning workflow with the voice channel', () => {
  const INSTANCE_ARN = 'arn:aws:connect:eu-west-2:210987654321:instance/0a1b2c3d-1111-2222-3333-444455556666';
  let fixture: PlatformFixture;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    fixture = buildPlatform('dev', {
      configOverrides: {
        region: 'eu-west-2',
        voice: { instance: { arn: INSTANCE_ARN }, languages: [{ localeId: 'en_US', voiceId: 'Joanna' }] },
      } as never,
    });
    resources = Template.fromStack(fixture.api).toJSON().Resources as Record<string, Resource>;
  });

  it('claims numbers into the voice instance; the agents Lambda hands over the flow’s Lambda and bot', () => {
    const workflowResources = Template.fromStack(fixture.workflows).toJSON().Resources as Record<
      string,
      Resource
    >;
    const step = workflowResources[
      logicalIdOf(fixture.workflows, fixture.workflows.provisioning.stepFunction.function)
    ] as Resource;
    expect(step.Properties.Environment.Variables.CONNECT_INSTANCE_ARN).toBe(INSTANCE_ARN);
    const statements = statementsOf(
      workflowResources,
      logicalIdOf(fixture.workflows, fixture.workflows.provisioning.stepFunction.role),
    );
    const connect = statements.find((s) => actionsOf([s]).includes('connect:ClaimPhoneNumber'));
    expect(JSON.stringify(connect?.Resource)).toContain(INSTANCE_ARN);
    const agents = resources[logicalIdOf(fixture.api, fixture.api.api.functions.agents.function)] as Resource;
    const env = agents.Properties.Environment.Variables as Record<string, unknown>;
    expect(env.VOICE_FUNCTION_ARN).toEqual(
      fixture.api.resolve(fixture.api.voice?.voiceFunction.function.functionArn),
    );
    expect(env.VOICE_BOT_ALIAS_ARN).toEqual(fixture.api.resolve(fixture.api.voice?.botAliasArn));
    expect(env.CONNECT_INSTANCE_ARN).toBe(INSTANCE_ARN);
  });

  it('cdk-nag finds nothing unacknowledged in it', () => {
    const violations = new AwsSolutionsChecks().validateScope(fixture.workflows.provisioning).violations;
    expect(
      violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
