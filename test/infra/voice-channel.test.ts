import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambdas/composition/env-names';
import { leadingKeysCondition } from '../../lambdas/composition/tenant-access-policy';
import { contactFlow } from '../../lambdas/domain/voice/contact-flow';
import type { VoiceConfig } from '../../lib/config';
import { houseFunctionsIn } from '../../lib/constructs/house-function';
import {
  INTENT_UTTERANCES,
  VOICE_SERVICE,
  voiceFunctionName,
  voiceParameterName,
} from '../../lib/constructs/voice-channel';
import { buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

/** A named deploy-time value, as a CDK token renders in a string. */
const token = (name: string) => `\${Token[${name}]}`;

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

/** Connect is not offered in eu-west-1 (dev's region); London is the European region that has it. */
const VOICE_REGION = 'eu-west-2';
const CREATED: VoiceConfig = {
  instance: { create: { alias: 'acme-agents-dev' } },
  languages: [
    { localeId: 'en_US', voiceId: 'Joanna' },
    { localeId: 'es_US', voiceId: 'Lupe' },
  ],
  humanQueue: { create: {} },
};
const INSTANCE_ARN = 'arn:aws:connect:eu-west-2:210987654321:instance/0a1b2c3d-1111-2222-3333-444455556666';
const QUEUE_ARN = `${INSTANCE_ARN}/queue/9f8e7d6c-1111-2222-3333-444455556666`;

function withVoice(voice: VoiceConfig): PlatformFixture {
  return buildPlatform('dev', { configOverrides: { region: VOICE_REGION, voice } });
}

function resourcesOf(stack: Stack): Record<string, Resource> {
  return Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
}

function ofType(stack: Stack, type: string): [string, Resource][] {
  return Object.entries(resourcesOf(stack)).filter(([, r]) => r.Type === type);
}

function only(stack: Stack, type: string): [string, Resource] {
  const found = ofType(stack, type);
  expect({ type, count: found.length }).toEqual({ type, count: 1 });
  return found[0] as [string, Resource];
}

/** Voice function of a fixture, by service name. */
function voiceFunction(fixture: PlatformFixture) {
  const fn = houseFunctionsIn(fixture.app).find((f) => f.serviceName === VOICE_SERVICE);
  if (!fn) throw new Error('no voice function');
  return fn;
}

describe('voice infrastructure (config voice set)', () => {
  let fixture: PlatformFixture;
  let api: Record<string, Resource>;
  let fnId: string;
  const ref = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

  beforeAll(() => {
    fixture = withVoice(CREATED);
    api = resourcesOf(fixture.api);
    fnId = logicalIdOf(fixture.api, voiceFunction(fixture).function);
  });

  it('creates ONE Connect instance, with inbound and outbound calls and flow logs, in the stateful stack', () => {
    const [, instance] = only(fixture.stateful, 'AWS::Connect::Instance');
    expect(instance.Properties).toEqual({
      IdentityManagementType: 'CONNECT_MANAGED',
      InstanceAlias: 'acme-agents-dev',
      Attributes: { InboundCalls: true, OutboundCalls: true, ContactflowLogs: true },
    });
    expect(ofType(fixture.api, 'AWS::Connect::Instance')).toEqual([]);
    expect(ofType(fixture.workflows, 'AWS::Connect::Instance')).toEqual([]);
  });

  it('keeps the instance, its queue and their hours as the environment keeps data', () => {
    const retained = (fixture: PlatformFixture) =>
      Object.values(resourcesOf(fixture.stateful))
        .filter((r) => r.Type.startsWith('AWS::Connect::'))
        .map((r) => [r.Type, (r as { DeletionPolicy?: string }).DeletionPolicy]);
    expect(retained(fixture).every(([, policy]) => policy === 'Delete')).toBe(true);
    const prodLike = buildPlatform('dev', {
      configOverrides: { region: VOICE_REGION, voice: CREATED, removalPolicy: 'retain' },
    });
    expect(retained(prodLike).sort()).toEqual(
      [
        ['AWS::Connect::HoursOfOperation', 'Retain'],
        ['AWS::Connect::Instance', 'Retain'],
        ['AWS::Connect::Queue', 'Retain'],
      ].sort(),
    );
  });

  it('creates a 24/7 human queue on it', () => {
    const [hoursId, hours] = only(fixture.stateful, 'AWS::Connect::HoursOfOperation');
    const days = hours.Properties.Config as { Day: string; StartTime: unknown; EndTime: unknown }[];
    expect(days.map((d) => d.Day).sort()).toEqual(
      ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'].sort(),
    );
    for (const day of days) {
      expect(day).toMatchObject({ StartTime: { Hours: 0, Minutes: 0 }, EndTime: { Hours: 23, Minutes: 59 } });
    }
    const [, queue] = only(fixture.stateful, 'AWS::Connect::Queue');
    const [instanceId] = only(fixture.stateful, 'AWS::Connect::Instance');
    expect(queue.Properties).toMatchObject({
      Name: 'agent-platform-dev-humans',
      HoursOfOperationArn: ref(hoursId, 'HoursOfOperationArn'),
      InstanceArn: ref(instanceId),
    });
  });

  it('one Lex V2 bot: a locale per language, with the transfer, goodbye and fallback (code hook) intents', () => {
    const [, bot] = only(fixture.api, 'AWS::Lex::Bot');
    const locales = bot.Properties.BotLocales as {
      LocaleId: string;
      VoiceSettings: { VoiceId: string };
      Intents: {
        Name: string;
        SampleUtterances?: { Utterance: string }[];
        ParentIntentSignature?: string;
        FulfillmentCodeHook?: unknown;
      }[];
    }[];
    expect(locales.map((l) => [l.LocaleId, l.VoiceSettings.VoiceId])).toEqual([
      ['en_US', 'Joanna'],
      ['es_US', 'Lupe'],
    ]);
    for (const locale of locales) {
      expect(locale.Intents.map((i) => i.Name).sort()).toEqual([
        'FallbackIntent',
        'Goodbye',
        'TransferToHuman',
      ]);
      expect(locale.Intents.find((i) => i.Name === 'FallbackIntent')).toEqual(
        expect.objectContaining({
          ParentIntentSignature: 'AMAZON.FallbackIntent',
          FulfillmentCodeHook: expect.objectContaining({
            Enabled: true,
            // Lex's own filler if the code hook is slow to answer (a cold start): within 2 s.
            FulfillmentUpdatesSpecification: expect.objectContaining({
              Active: true,
              StartResponse: expect.objectContaining({ DelayInSeconds: 2, AllowInterrupt: true }),
            }),
          }),
        }),
      );
      const transfer = locale.Intents.find((i) => i.Name === 'TransferToHuman')?.SampleUtterances ?? [];
      expect(transfer.map((u) => u.Utterance)).toContain('0');
    }
    const english = locales[0]?.Intents.find((i) => i.Name === 'TransferToHuman')?.SampleUtterances ?? [];
    expect(english.map((u) => u.Utterance)).toEqual(
      expect.arrayContaining(['0', 'a person', 'human', 'agent', 'representative', 'speak to someone']),
    );
    const fillerOf = (locale: (typeof locales)[number]) =>
      JSON.stringify(locale.Intents.find((i) => i.Name === 'FallbackIntent')?.FulfillmentCodeHook);
    expect(fillerOf(locales[0] as (typeof locales)[number])).toContain('One moment.');
    expect(fillerOf(locales[1] as (typeof locales)[number])).toContain('Un momento.');
    const goodbye = locales[0]?.Intents.find((i) => i.Name === 'Goodbye')?.SampleUtterances ?? [];
    expect(goodbye.map((u) => u.Utterance)).toEqual(expect.arrayContaining(['bye', 'goodbye', "that's all"]));
    expect(bot.Properties).toMatchObject({
      AutoBuildBotLocales: true,
      DataPrivacy: { ChildDirected: false },
    });
    const role = api[(bot.Properties.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]];
    expect(role?.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Principal: { Service: 'lexv2.amazonaws.com' } }],
    });
  });

  it('a bot version of every locale, and the alias whose code hook is the voice Lambda', () => {
    const [botId] = only(fixture.api, 'AWS::Lex::Bot');
    const [versionId, version] = only(fixture.api, 'AWS::Lex::BotVersion');
    expect(version.Properties).toMatchObject({
      BotId: ref(botId, 'Id'),
      BotVersionLocaleSpecification: [
        { LocaleId: 'en_US', BotVersionLocaleDetails: { SourceBotVersion: 'DRAFT' } },
        { LocaleId: 'es_US', BotVersionLocaleDetails: { SourceBotVersion: 'DRAFT' } },
      ],
    });
    const [, alias] = only(fixture.api, 'AWS::Lex::BotAlias');
    expect(alias.Properties).toMatchObject({
      BotId: ref(botId, 'Id'),
      BotVersion: ref(versionId, 'BotVersion'),
    });
    expect(alias.Properties.BotAliasLocaleSettings).toEqual(
      ['en_US', 'es_US'].map((LocaleId) => ({
        LocaleId,
        BotAliasLocaleSetting: {
          Enabled: true,
          CodeHookSpecification: {
            LambdaCodeHook: { CodeHookInterfaceVersion: '1.0', LambdaArn: ref(fnId) },
          },
        },
      })),
    );
  });

  it('a changed bot definition gets a new version (its hash is in the version’s id)', () => {
    const other = withVoice({ ...CREATED, languages: [{ localeId: 'en_GB', voiceId: 'Amy' }] });
    expect(only(other.api, 'AWS::Lex::BotVersion')[0]).not.toBe(only(fixture.api, 'AWS::Lex::BotVersion')[0]);
  });

  it('associates the bot alias and the voice Lambda with the instance', () => {
    const [aliasId] = only(fixture.api, 'AWS::Lex::BotAlias');
    const associations = ofType(fixture.api, 'AWS::Connect::IntegrationAssociation').map(
      ([, r]) => r.Properties,
    );
    const instanceRef = (associations[0] as { InstanceId: unknown }).InstanceId;
    expect(JSON.stringify(instanceRef)).toContain(
      logicalIdOf(fixture.stateful, { node: { defaultChild: fixture.stateful.contactCenter?.instance } }),
    );
    expect(associations).toEqual(
      expect.arrayContaining([
        { InstanceId: instanceRef, IntegrationType: 'LEX_BOT', IntegrationArn: ref(aliasId) },
        { InstanceId: instanceRef, IntegrationType: 'LAMBDA_FUNCTION', IntegrationArn: ref(fnId) },
      ]),
    );
    expect(associations).toHaveLength(2);
  });

  it('lets exactly this bot alias (Lex) and this instance in this account (Connect) invoke the voice Lambda', () => {
    const [aliasId] = only(fixture.api, 'AWS::Lex::BotAlias');
    const permissions = Object.values(api)
      .filter((r) => r.Type === 'AWS::Lambda::Permission')
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(ref(fnId)));
    const [[, association]] = ofType(fixture.api, 'AWS::Connect::IntegrationAssociation') as [
      [string, Resource],
    ];
    const instanceRef = association.Properties.InstanceId;
    expect(permissions).toEqual(
      expect.arrayContaining([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: ref(fnId),
          Principal: 'lexv2.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
          SourceArn: ref(aliasId),
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: ref(fnId),
          Principal: 'connect.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
          SourceArn: instanceRef,
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it('the voice Lambda: its fixed name, its own ARN to invoke itself, the instance, the queue; invoke on itself only', () => {
    const fn = api[fnId] as Resource;
    const name = voiceFunctionName('dev');
    expect(fn.Properties.FunctionName).toBe(name);
    const ownArn = {
      'Fn::Join': ['', [`arn:aws:lambda:${VOICE_REGION}:`, { Ref: 'AWS::AccountId' }, `:function:${name}`]],
    };
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ENV.VOICE_FUNCTION_ARN]).toEqual(ownArn);
    expect(variables[ENV.CONNECT_INSTANCE_ARN]).toBeDefined();
    expect(variables[ENV.VOICE_HUMAN_QUEUE_ARN]).toBeDefined();
    expect(variables[ENV.VOICE_BOT_ALIAS_ARN]).toBeUndefined();
    // Its turns' events reach WebSocket subscribers (the console watching a call).
    expect(variables[ENV.WEBSOCKET_CALLBACK_URL]).toBeDefined();
    expect(variables[ENV.POWERTOOLS_SERVICE_NAME]).toBe('voice');
    expect(fn.Properties.Timeout).toBe(60);
    const roleId = logicalIdOf(fixture.api, voiceFunction(fixture).role);
    const statements = Object.values(api)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap(
        (r) =>
          (r.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      );
    // Its own role reaches the channel directory only (routing by dialled number); tenants' items
    // through the tenant-access role.
    const table = statements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('dynamodb:')));
    expect(table.length).toBeGreaterThan(0);
    for (const statement of table) {
      expect((statement as { Condition?: unknown }).Condition).toEqual(leadingKeysCondition(['CHADDR#*']));
    }
    expect(
      statements.filter((s) => [s.Action].flat().includes('execute-api:ManageConnections')),
    ).toHaveLength(1);
    const invokes = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: ownArn })]);
  });

  it('the shared flow is contactFlow() with the deployed ARNs, created after both associations', () => {
    const [flowId, flow] = only(fixture.api, 'AWS::Connect::ContactFlow');
    expect(flow.Properties).toMatchObject({
      Type: 'CONTACT_FLOW',
      State: 'ACTIVE',
      Name: 'agent-platform-dev-voice-agent',
    });
    const [aliasId] = only(fixture.api, 'AWS::Lex::BotAlias');
    // Each deploy-time value becomes a named token; the JSON must parse and equal the template's own output.
    const tokenOf = (part: unknown): string => {
      const json = JSON.stringify(part);
      if (json === JSON.stringify(ref(fnId))) return token('VOICE_FUNCTION');
      if (json === JSON.stringify(ref(aliasId))) return token('BOT_ALIAS');
      if (json.includes('Fn::GetStackOutput') && json.includes('HumanQueue')) return token('HUMAN_QUEUE');
      throw new Error(`unexpected deploy-time value in the flow: ${json}`);
    };
    const content = flow.Properties.Content as { 'Fn::Join': [string, unknown[]] };
    const text = content['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : tokenOf(part)))
      .join('');
    expect(JSON.parse(text)).toEqual(
      contactFlow({
        voiceLambdaArn: token('VOICE_FUNCTION'),
        botAliasArn: token('BOT_ALIAS'),
        humanQueueArn: token('HUMAN_QUEUE'),
      }),
    );
    const associationIds = ofType(fixture.api, 'AWS::Connect::IntegrationAssociation').map(([id]) => id);
    expect([...(api[flowId]?.DependsOn ?? [])].sort()).toEqual(expect.arrayContaining(associationIds.sort()));
    expect(fixture.api.voice?.sharedContactFlowId).toBeDefined();
  });

  it('exposes the construct outputs other stacks and provisioning use', () => {
    const voice = fixture.api.voice;
    expect(voice).toBeDefined();
    expect(voice?.voiceFunction.serviceName).toBe('voice');
    expect(fixture.api.resolve(voice?.instanceArn)).toEqual(
      fixture.api.resolve(fixture.stateful.contactCenter?.instanceArn),
    );
    for (const value of [voice?.botAliasArn, voice?.humanQueueArn, voice?.sharedContactFlowId]) {
      expect(typeof value).toBe('string');
    }
  });

  it('publishes the same values under a fixed SSM name, for the stacks that cannot refer to this one', () => {
    // The API stack's other parameter is the WebSocket callback URL (lib/constructs/websocket-api.ts).
    const voiceParameters = ofType(fixture.api, 'AWS::SSM::Parameter').filter(
      ([, candidate]) => candidate.Properties.Name === voiceParameterName('dev'),
    );
    expect(voiceParameters).toHaveLength(1);
    const [, parameter] = voiceParameters[0] as [string, Resource];
    const [aliasId] = only(fixture.api, 'AWS::Lex::BotAlias');
    const [flowId] = only(fixture.api, 'AWS::Connect::ContactFlow');
    const value = JSON.stringify(parameter.Properties.Value);
    for (const id of [aliasId, flowId, fnId]) expect(value).toContain(id);
    for (const key of [
      'instanceArn',
      'botAliasArn',
      'voiceFunctionArn',
      'humanQueueArn',
      'sharedContactFlowId',
    ]) {
      expect(value).toContain(key);
    }
  });

  it('is cdk-nag clean (every finding acknowledged with a reason) and passes the CloudFormation rules', () => {
    const nagged = withVoice(CREATED);
    Validations.of(nagged.app).addPlugins(new AwsSolutionsChecks(nagged.app));
    const assembly = nagged.app.synth();
    const unacknowledged = new AwsSolutionsChecks()
      .validateScope(nagged.app)
      .violations.map(
        (v) =>
          `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(unacknowledged).toEqual([]);
    const report = path.join(assembly.directory, 'validation-report.json');
    const findings = existsSync(report)
      ? (
          JSON.parse(readFileSync(report, 'utf8')) as { pluginReports: { violations: unknown[] }[] }
        ).pluginReports.flatMap((p) => p.violations)
      : [];
    expect(findings).toEqual([]);
  });
});

describe('voice infrastructure on an existing instance and queue', () => {
  let fixture: PlatformFixture;
  beforeAll(() => {
    fixture = withVoice({ ...CREATED, instance: { arn: INSTANCE_ARN }, humanQueue: { arn: QUEUE_ARN } });
  });

  it('creates no instance or queue, and scopes the associations, the permission and the flow to the given ones', () => {
    for (const type of ['AWS::Connect::Instance', 'AWS::Connect::Queue', 'AWS::Connect::HoursOfOperation']) {
      expect(ofType(fixture.stateful, type)).toEqual([]);
    }
    for (const [, association] of ofType(fixture.api, 'AWS::Connect::IntegrationAssociation')) {
      expect(association.Properties.InstanceId).toBe(INSTANCE_ARN);
    }
    const connect = Object.values(resourcesOf(fixture.api)).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'connect.amazonaws.com',
    );
    expect(connect.map((r) => r.Properties.SourceArn)).toEqual([INSTANCE_ARN]);
    const [, flow] = only(fixture.api, 'AWS::Connect::ContactFlow');
    expect(flow.Properties.InstanceArn).toBe(INSTANCE_ARN);
    expect(JSON.stringify(flow.Properties.Content)).toContain(QUEUE_ARN);
  });
});

describe('voice infrastructure without a human queue', () => {
  it('creates no queue, gives the Lambda no queue and builds the flow without a transfer', () => {
    const { humanQueue: _none, ...noQueue } = CREATED;
    const fixture = withVoice(noQueue);
    expect(ofType(fixture.stateful, 'AWS::Connect::Queue')).toEqual([]);
    const fn = resourcesOf(fixture.api)[
      logicalIdOf(fixture.api, voiceFunction(fixture).function)
    ] as Resource;
    expect(
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    ).not.toHaveProperty(ENV.VOICE_HUMAN_QUEUE_ARN);
    const [, flow] = only(fixture.api, 'AWS::Connect::ContactFlow');
    expect(JSON.stringify(flow.Properties.Content)).not.toContain('TransferContactToQueue');
  });
});

describe.each(['dev', 'prod'])('no voice configured (%s as shipped)', (envName) => {
  it('has no Connect or Lex resource and no voice function at all', () => {
    const fixture = buildPlatform(envName);
    expect(fixture.config.voice).toBeUndefined();
    for (const stack of [fixture.stateful, fixture.workflows, fixture.api]) {
      const types = Object.values(resourcesOf(stack)).map((r) => r.Type);
      expect(types.filter((t) => t.startsWith('AWS::Connect::') || t.startsWith('AWS::Lex::'))).toEqual([]);
    }
    expect(houseFunctionsIn(fixture.app).map((f) => f.serviceName)).not.toContain(VOICE_SERVICE);
    expect(fixture.api.voice).toBeUndefined();
    expect(fixture.stateful.contactCenter).toBeUndefined();
  });
});

describe('intent utterances', () => {
  it('every language reaches a person with DTMF 0 and has words to hang up', () => {
    for (const [language, words] of Object.entries(INTENT_UTTERANCES)) {
      expect({ language, zero: words.transfer.includes('0') }).toEqual({ language, zero: true });
      expect(words.goodbye.length).toBeGreaterThan(0);
    }
  });
});
