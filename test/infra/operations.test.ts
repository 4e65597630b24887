import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigError } from '../../lib/config';
import { EXECUTION_WORKER_SERVICE } from '../../lib/constructs/execution-queue';
import { houseFunctionsIn } from '../../lib/constructs/house-function';
import { buildPlatform, logicalIdOf, type PlatformFixture, REPO_ROOT } from './platform-fixture';

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Resources = Record<string, Resource>;

/**
 * The property that gives each resource type of the app its physical name, or null where the type
 * has no name that must be unique in the account and region (CloudFormation or AWS generates it,
 * or duplicates are allowed). A type missing here fails the test below: classify it when adding it.
 */
const PHYSICAL_NAME_PROPERTIES: Readonly<Record<string, string | null>> = {
  'AWS::ApiGatewayV2::Api': null, // names need not be unique
  'AWS::ApiGatewayV2::Authorizer': null,
  'AWS::ApiGatewayV2::Integration': null,
  'AWS::ApiGatewayV2::Route': null,
  'AWS::ApiGatewayV2::Stage': null, // $default, scoped to its API
  'AWS::Chatbot::SlackChannelConfiguration': 'ConfigurationName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Cognito::UserPool': null, // names need not be unique
  'AWS::Cognito::UserPoolClient': null,
  'AWS::Cognito::UserPoolGroup': null, // scoped to its pool
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::Events::Archive': 'ArchiveName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::IAM::Policy': null, // inline, scoped to its role
  'AWS::IAM::Role': 'RoleName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::KMS::Key': null,
  'AWS::Lambda::EventInvokeConfig': null,
  'AWS::Lambda::EventSourceMapping': null,
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Lambda::Permission': null,
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SNS::Subscription': null,
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SNS::TopicPolicy': null,
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SQS::QueuePolicy': null,
  // Fixed per stage (a function of an earlier stack reads it), destroyed with its stack.
  'AWS::SSM::Parameter': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
};

/** Deletion policies that leave the resource, and so its name, behind when its stack goes. */
const KEEPS_RESOURCE = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

interface NamedResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly name: string;
  readonly retained: boolean;
}

const stacksOf = (f: PlatformFixture): Stack[] => [f.stateful, f.workflows, f.api];
const resourcesOf = (stack: Stack) => Template.fromStack(stack).toJSON().Resources as Resources;

/** Every explicitly named resource of the fixture's stacks, the name as the template gives it. */
function namedResources(f: PlatformFixture): NamedResource[] {
  return stacksOf(f).flatMap((stack) =>
    Object.entries(resourcesOf(stack)).flatMap(([logicalId, resource]) => {
      const property = PHYSICAL_NAME_PROPERTIES[resource.Type];
      if (property === undefined) {
        throw new Error(`${resource.Type} (${logicalId}) is not classified in PHYSICAL_NAME_PROPERTIES`);
      }
      const name = property === null ? undefined : resource.Properties?.[property];
      if (name === undefined) return [];
      return [
        {
          stack: stack.stackName,
          logicalId,
          type: resource.Type,
          name: typeof name === 'string' ? name : JSON.stringify(name),
          retained: KEEPS_RESOURCE.has(resource.DeletionPolicy ?? 'Delete'),
        },
      ];
    }),
  );
}

describe('redeployable stacks', () => {
  let prod: PlatformFixture;
  let dev: PlatformFixture;

  beforeAll(() => {
    prod = buildPlatform('prod');
    dev = buildPlatform('dev');
  });

  it('keeps every retained resource with a fixed name out of the API stack (a redeploy would collide with it)', () => {
    const inApi = namedResources(prod).filter((r) => r.stack === prod.api.stackName && r.retained);
    expect(inApi).toEqual([]);
    // And the API stack does retain things (its Lambdas' and access logs), under generated names.
    const retainedInApi = Object.values(resourcesOf(prod.api)).filter((r) =>
      KEEPS_RESOURCE.has(r.DeletionPolicy ?? ''),
    );
    expect(retainedInApi.length).toBeGreaterThan(0);
  });

  it('keeps the state machines, their retained log groups and the billing schedule in the workflow stack', () => {
    for (const stack of [prod.stateful, prod.api]) {
      const types = Object.values(resourcesOf(stack)).map((r) => r.Type);
      expect(types).not.toContain('AWS::StepFunctions::StateMachine');
      expect(types).not.toContain('AWS::Scheduler::ScheduleGroup');
    }
    const named = namedResources(prod).filter((r) => r.stack === prod.workflows.stackName);
    expect(named.filter((r) => r.retained).map((r) => r.name)).toEqual(
      expect.arrayContaining([
        '/aws/vendedlogs/states/agent-platform-prod-approval',
        '/aws/vendedlogs/states/agent-platform-prod-monthly-billing',
      ]),
    );
    expect(named.map((r) => r.name)).toEqual(expect.arrayContaining(['agent-platform-prod-approval']));
  });

  it('retains a resource under a fixed name only where it keeps history: the workflows’ log groups', () => {
    // A retained schedule group (or any other fixed-name resource holding nothing) would only make
    // the next deploy of its stack fail with "already exists".
    const retainedNamed = namedResources(prod).filter((r) => r.retained);
    expect(retainedNamed.map((r) => `${r.stack} ${r.type} ${r.name}`).sort()).toEqual([
      `${prod.workflows.stackName} AWS::Logs::LogGroup /aws/vendedlogs/states/agent-platform-prod-approval`,
      `${prod.workflows.stackName} AWS::Logs::LogGroup /aws/vendedlogs/states/agent-platform-prod-monthly-billing`,
      `${prod.workflows.stackName} AWS::Logs::LogGroup /aws/vendedlogs/states/agent-platform-prod-monthly-billing-page`,
      `${prod.workflows.stackName} AWS::Logs::LogGroup /aws/vendedlogs/states/agent-platform-prod-provision-agent`,
    ]);
  });

  it('protects the long-lived stacks from deletion where the data is protected', () => {
    expect(prod.stateful.terminationProtection).toBe(true);
    expect(prod.workflows.terminationProtection).toBe(true);
    expect(prod.api.terminationProtection).toBe(false);
    expect(dev.workflows.terminationProtection).toBe(false);
  });

  it('leaves the API stack a leaf: nothing refers to it, and it refers to others only weakly', () => {
    const templates = stacksOf(prod).map((stack) => ({
      stack,
      text: JSON.stringify(Template.fromStack(stack).toJSON()),
    }));
    for (const { stack, text } of templates) {
      // Fn::ImportValue would make the producing stack's export undeletable while this stack lives.
      expect({ stack: stack.stackName, imports: text.includes('Fn::ImportValue') }).toEqual({
        stack: stack.stackName,
        imports: false,
      });
      if (stack !== prod.api) expect(text).not.toContain(`"StackName":"${prod.api.stackName}"`);
    }
    expect(prod.api.dependencies.map((s) => s.stackName).sort()).toEqual(
      [prod.stateful.stackName, prod.workflows.stackName].sort(),
    );
  });

  it('synthesizes twice with the same physical names, each unique across the stacks of both environments', () => {
    const again = buildPlatform('prod');
    const names = (f: PlatformFixture) => namedResources(f).map((r) => `${r.stack} ${r.logicalId} ${r.name}`);
    expect(names(again)).toEqual(names(prod));

    const all = [...namedResources(prod), ...namedResources(dev)];
    const seen = new Map<string, NamedResource>();
    const clashes: string[] = [];
    for (const resource of all) {
      const key = `${resource.type} ${resource.name}`;
      const other = seen.get(key);
      if (other)
        clashes.push(`${key}: ${other.stack}/${other.logicalId} and ${resource.stack}/${resource.logicalId}`);
      seen.set(key, resource);
    }
    expect(clashes).toEqual([]);
    expect(all.length).toBeGreaterThan(6);
  });
});

/** The functions of the templates that something invokes asynchronously, by stack and logical id. */
const ASYNC_PRINCIPALS = new Set([
  'events.amazonaws.com',
  's3.amazonaws.com',
  'sns.amazonaws.com',
  'ses.amazonaws.com',
  'logs.amazonaws.com',
  'iot.amazonaws.com',
]);
/** Principals that wait for the function's answer (an error goes back to the caller). */
const SYNC_PRINCIPALS = new Set([
  'apigateway.amazonaws.com',
  'cognito-idp.amazonaws.com',
  'lex.amazonaws.com',
  'connect.amazonaws.com',
]);

function functionRef(value: unknown): string | undefined {
  const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  if (v?.['Fn::GetAtt']?.[1] === 'Arn') return v['Fn::GetAtt'][0];
  return v?.Ref;
}

/** Whether the policy is attached to a role that Lambda assumes (not Step Functions', which waits). */
function invokedByLambdaRole(resources: Resources, policy: Record<string, unknown>): boolean {
  return ((policy.Roles ?? []) as { Ref?: string }[]).some((role) =>
    JSON.stringify(resources[role.Ref ?? '']?.Properties?.AssumeRolePolicyDocument ?? '').includes(
      'lambda.amazonaws.com',
    ),
  );
}

function asyncInvokedFunctions(resources: Resources): Set<string> {
  const functions = new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id]) => id),
  );
  const found = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Permission') {
      const principal = String(props.Principal);
      const target = functionRef(props.FunctionName);
      if (!ASYNC_PRINCIPALS.has(principal) && !SYNC_PRINCIPALS.has(principal)) {
        throw new Error(`${id}: classify principal ${principal} as a synchronous or an asynchronous invoker`);
      }
      if (ASYNC_PRINCIPALS.has(principal) && target && functions.has(target)) found.add(target);
    }
    if (resource.Type === 'AWS::Events::Rule') {
      for (const target of (props.Targets ?? []) as { Arn: unknown }[]) {
        const fn = functionRef(target.Arn);
        if (fn && functions.has(fn)) found.add(fn);
      }
    }
    if (resource.Type === 'AWS::SNS::Subscription' && props.Protocol === 'lambda') {
      const fn = functionRef(props.Endpoint);
      if (fn && functions.has(fn)) found.add(fn);
    }
    // A Lambda that may invoke another may do so with InvocationType Event: counted as asynchronous.
    if (resource.Type === 'AWS::IAM::Policy' && invokedByLambdaRole(resources, props)) {
      for (const statement of (
        props.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
      ).Statement) {
        if (![statement.Action].flat().includes('lambda:InvokeFunction')) continue;
        for (const resourceArn of [statement.Resource].flat()) {
          const fn = functionRef(resourceArn);
          if (fn && functions.has(fn)) found.add(fn);
        }
      }
    }
    if (resource.Type === 'AWS::Scheduler::Schedule') {
      const fn = functionRef((props.Target as { Arn: unknown }).Arn);
      if (fn && functions.has(fn)) found.add(fn);
    }
  }
  return found;
}

describe('failure targets', () => {
  let fixture: PlatformFixture;

  beforeAll(() => {
    fixture = buildPlatform('prod');
  });

  it('finds the asynchronously invoked functions (the housekeeping sweep, on an EventBridge rule)', () => {
    const found = stacksOf(fixture).flatMap((stack) => [...asyncInvokedFunctions(resourcesOf(stack))]);
    expect(found).toEqual([logicalIdOf(fixture.api, fixture.api.housekeeping.function.function)]);
  });

  it('gives every asynchronously invoked function an on-failure queue that is alarmed on', () => {
    for (const stack of stacksOf(fixture)) {
      const resources = resourcesOf(stack);
      for (const fn of asyncInvokedFunctions(resources)) {
        const configs = Object.values(resources).filter(
          (r) =>
            r.Type === 'AWS::Lambda::EventInvokeConfig' &&
            JSON.stringify(r.Properties?.FunctionName) === JSON.stringify({ Ref: fn }),
        );
        expect(configs).toHaveLength(1);
        const destination = (
          configs[0]?.Properties?.DestinationConfig as {
            OnFailure?: { Destination: { 'Fn::GetAtt': string[] } };
          }
        )?.OnFailure?.Destination;
        const queueId = destination?.['Fn::GetAtt']?.[0] ?? '';
        expect(resources[queueId]?.Type).toBe('AWS::SQS::Queue');
        const alarmed = Object.values(resources).some(
          (r) =>
            r.Type === 'AWS::CloudWatch::Alarm' &&
            r.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            JSON.stringify(r.Properties?.Dimensions) ===
              JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
        );
        expect({ fn, alarmed }).toEqual({ fn, alarmed: true });
      }
    }
  });

  it('gives every EventBridge target a dead-letter queue for events it could not deliver', () => {
    for (const stack of stacksOf(fixture)) {
      for (const rule of Object.values(resourcesOf(stack)).filter((r) => r.Type === 'AWS::Events::Rule')) {
        for (const target of (rule.Properties?.Targets ?? []) as {
          Id: string;
          DeadLetterConfig?: unknown;
        }[]) {
          expect({ target: target.Id, dlq: target.DeadLetterConfig }).toEqual({
            target: target.Id,
            dlq: { Arn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } },
          });
        }
      }
    }
  });

  it('gives every queue a worker consumes a redrive dead-letter queue instead', () => {
    let mappings = 0;
    for (const stack of stacksOf(fixture)) {
      const resources = resourcesOf(stack);
      for (const mapping of Object.values(resources).filter(
        (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
      )) {
        mappings += 1;
        const queueId =
          (mapping.Properties?.EventSourceArn as { 'Fn::GetAtt'?: string[] } | undefined)?.[
            'Fn::GetAtt'
          ]?.[0] ?? '';
        expect(resources[queueId]?.Properties?.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
          maxReceiveCount: expect.any(Number),
        });
      }
    }
    expect(mappings).toBeGreaterThan(0);
  });
});

describe('reserved concurrency', () => {
  const reservedOf = (f: PlatformFixture) =>
    Object.fromEntries(
      houseFunctionsIn(f.app)
        .map((fn) => {
          const resources = resourcesOf(fn.function.stack);
          const value =
            resources[logicalIdOf(fn.function.stack, fn.function)]?.Properties?.ReservedConcurrentExecutions;
          return [fn.serviceName, value] as const;
        })
        .filter(([, value]) => value !== undefined),
    );

  it('reserves what the environment’s config names and nothing else (prod: the execution worker)', () => {
    const prod = buildPlatform('prod');
    expect(reservedOf(prod)).toEqual({ [EXECUTION_WORKER_SERVICE]: 10 });
    expect(reservedOf(buildPlatform('dev'))).toEqual({});
    // The queue never keeps more workers busy than are reserved (they would be throttled).
    Template.fromStack(prod.api).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('applies a reservation to any house function by name, in whichever stack it lives', () => {
    const fixture = buildPlatform('dev');
    const lambda = { ...fixture.config.lambda };
    const overridden = buildPlatform('dev', {
      configOverrides: {
        lambda: {
          ...lambda,
          reservedConcurrency: { agents: 7, 'billing-charge-monthly-fee': 3, [EXECUTION_WORKER_SERVICE]: 4 },
        },
      },
    });
    expect(reservedOf(overridden)).toEqual({
      agents: 7,
      'billing-charge-monthly-fee': 3,
      [EXECUTION_WORKER_SERVICE]: 4,
    });
    Template.fromStack(overridden.api).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it('refuses a reservation for a function that does not exist, listing those that do', () => {
    const lambda = buildPlatform('dev').config.lambda;
    expect(() =>
      buildPlatform('dev', {
        configOverrides: { lambda: { ...lambda, reservedConcurrency: { 'execution-wroker': 5 } } },
      }),
    ).toThrow(ConfigError);
    expect(() =>
      buildPlatform('dev', {
        configOverrides: { lambda: { ...lambda, reservedConcurrency: { 'execution-wroker': 5 } } },
      }),
    ).toThrow(/names no function called execution-wroker\. Functions: .*execution-worker/);
  });

  it('refuses a worker reservation below the SQS event source’s least maximum concurrency', () => {
    const lambda = buildPlatform('dev').config.lambda;
    expect(() =>
      buildPlatform('dev', {
        configOverrides: { lambda: { ...lambda, reservedConcurrency: { [EXECUTION_WORKER_SERVICE]: 1 } } },
      }),
    ).toThrow(/reservedConcurrency\.execution-worker is 1: it must be at least 2/);
  });
});

describe('README', () => {
  it('says what every alarm of the app means', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Alarms'), readme.indexOf('## Configuration'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const fixture = buildPlatform('prod');
    const alarms = fixture.app.node.findAll().filter((c): c is Alarm => c instanceof Alarm);
    expect(alarms.length).toBeGreaterThan(20);
    const missing = alarms
      .map((alarm) => {
        const parent = alarm.node.scope;
        if (alarm.node.id.endsWith('-ErrorsAlarm')) {
          const fn = alarm.node.id.slice(0, -'-ErrorsAlarm'.length);
          return rows.some((row) => row.startsWith('| `<function>-ErrorsAlarm`') && row.includes(`\`${fn}\``))
            ? undefined
            : alarm.node.path;
        }
        const scoped =
          parent === undefined || Stack.isStack(parent) || parent.node.id === 'Observability'
            ? alarm.node.id
            : `${parent.node.id}/${alarm.node.id}`;
        return rows.some((row) => row.startsWith(`| \`${scoped}\``)) ? undefined : alarm.node.path;
      })
      .filter((missingPath) => missingPath !== undefined);
    expect(missing).toEqual([]);
  });
});
