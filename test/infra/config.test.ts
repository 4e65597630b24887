import { App } from 'aws-cdk-lib';
import {
  ConfigError,
  type EnvironmentConfig,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config';
import { placeholderReason } from '../../lib/operator-settings';
import { cdkJsonContext, PROD_OPERATOR_CONTEXT } from './platform-fixture';

const SPEC_TOKEN_COSTS = {
  whatsappConversation: 10,
  sms: 1,
  email: 1,
  call: 50,
  llmCall: 1,
  monthlyFee: 200,
  resource: 0,
  booking: 2,
  payment: 5,
  coordination: 0,
};

function appWith(context: Record<string, unknown>): App {
  return new App({ context });
}

function devConfig(): EnvironmentConfig {
  return loadEnvironmentConfig(appWith({ ...cdkJsonContext(), env: 'dev' }));
}

describe('environment config', () => {
  it.each(['dev', 'prod'])('loads the %s environment from cdk.json with the specified token costs', (env) => {
    const config = loadEnvironmentConfig(appWith({ ...cdkJsonContext(), ...PROD_OPERATOR_CONTEXT, env }));
    expect(config.stageName).toBe(env);
    expect(config.tokenCosts).toEqual(SPEC_TOKEN_COSTS);
  });

  it('sets per-environment turn rate limits, an agent’s never above its tenant’s', () => {
    expect(devConfig().turnRateLimits).toEqual({ turnsPerMinute: 120, agentTurnsPerMinute: 60 });
    expect(() =>
      parseEnvironmentConfig('dev', {
        ...devConfig(),
        turnRateLimits: { turnsPerMinute: 10, agentTurnsPerMinute: 20 },
      }),
    ).toThrow(/turnRateLimits\.agentTurnsPerMinute/);
    expect(() =>
      parseEnvironmentConfig('dev', {
        ...devConfig(),
        turnRateLimits: { turnsPerMinute: 0, agentTurnsPerMinute: 0 },
      }),
    ).toThrow(/turnRateLimits\.turnsPerMinute/);
  });

  it('keeps prod data and dev disposable', () => {
    const prod = loadEnvironmentConfig(
      appWith({ ...cdkJsonContext(), ...PROD_OPERATOR_CONTEXT, env: 'prod' }),
    );
    expect(prod).toMatchObject({
      removalPolicy: 'retain',
      pointInTimeRecovery: true,
      deletionProtection: true,
    });
    expect(devConfig()).toMatchObject({ removalPolicy: 'destroy', deletionProtection: false });
  });

  it('refuses a missing env and lists the known environments', () => {
    expect(() => loadEnvironmentConfig(appWith(cdkJsonContext()))).toThrow(
      'No environment selected: pass -c env=<name>. Known environments: dev, prod',
    );
  });

  it('refuses an unknown env and lists the known environments', () => {
    expect(() => loadEnvironmentConfig(appWith({ ...cdkJsonContext(), env: 'staging' }))).toThrow(
      'Unknown environment "staging". Known environments: dev, prod',
    );
  });

  it('refuses a context without environments', () => {
    expect(() => loadEnvironmentConfig(appWith({ env: 'dev' }))).toThrow(ConfigError);
  });

  it('names the environment and every invalid field', () => {
    const raw = {
      ...devConfig(),
      region: 'mars-1',
      logRetentionDays: 10,
      lambda: { memoryMb: 64, timeoutSeconds: 60, logLevel: 'DEBUG' },
      alarms: { emails: ['not-an-email'] },
    };
    let message = '';
    try {
      parseEnvironmentConfig('dev', raw);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(
      'Invalid configuration for environment "dev" (cdk.json context environments.dev',
    );
    expect(message).toContain('region: must be an AWS region');
    expect(message).toContain('logRetentionDays: must be one of 1, 3, 5');
    expect(message).toContain('lambda.memoryMb:');
    expect(message).toContain('lambda.timeoutSeconds:');
    expect(message).toContain('alarms.emails.0:');
  });

  it('refuses unknown keys, so a typo cannot silently fall back to a default', () => {
    expect(() => parseEnvironmentConfig('dev', { ...devConfig(), pointInTimeRecvery: true })).toThrow(
      /pointInTimeRecvery/,
    );
  });

  it('refuses a missing token cost and a negative one', () => {
    const { sms: _dropped, ...withoutSms } = SPEC_TOKEN_COSTS;
    expect(() => parseEnvironmentConfig('dev', { ...devConfig(), tokenCosts: withoutSms })).toThrow(
      /tokenCosts\.sms/,
    );
    expect(() =>
      parseEnvironmentConfig('dev', { ...devConfig(), tokenCosts: { ...SPEC_TOKEN_COSTS, call: -1 } }),
    ).toThrow(/tokenCosts\.call/);
  });
});

/** The message of the ConfigError that loading `env` with these `-c` settings throws ('' if none). */
function refusal(env: string, operatorContext: Record<string, unknown>): string {
  try {
    loadEnvironmentConfig(appWith({ ...cdkJsonContext(), ...operatorContext, env }));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return '';
}

describe('operator settings', () => {
  it('refuses a production synth without alarm subscribers, saying which -c settings to give', () => {
    const message = refusal('prod', {});
    expect(message).toContain('Invalid configuration for environment "prod"');
    expect(message).toMatch(
      /- alarms: a production environment needs at least one alarm subscriber.*-c alarmEmail=.*-c alarmTopicArn=/,
    );
    // prod hosts the console (console.enabled), on the API's origin: no CORS origin is needed
    // (without it, one is: test/infra/console-stack.test.ts).
    expect(message).not.toContain('api.corsAllowedOrigins');
  });

  it('accepts a production synth with one subscriber of either kind', () => {
    const origins = { corsAllowedOrigins: PROD_OPERATOR_CONTEXT.corsAllowedOrigins };
    expect(refusal('prod', { ...origins, alarmEmail: PROD_OPERATOR_CONTEXT.alarmEmail })).toBe('');
    expect(refusal('prod', { ...origins, alarmTopicArn: PROD_OPERATOR_CONTEXT.alarmTopicArn })).toBe('');
  });

  it('takes a Slack channel as <workspace id>/<channel id>, which is enough of a subscriber for prod', () => {
    const origins = { corsAllowedOrigins: PROD_OPERATOR_CONTEXT.corsAllowedOrigins };
    const prod = loadEnvironmentConfig(
      appWith({ ...cdkJsonContext(), ...origins, alarmSlackChannel: 'T07ABCDEF12/C07ABCDEF12', env: 'prod' }),
    );
    expect(prod.alarms.slackChannel).toEqual({ workspaceId: 'T07ABCDEF12', channelId: 'C07ABCDEF12' });
    expect(refusal('prod', { ...origins, alarmSlackChannel: '#ops-alerts' })).toMatch(
      /alarms\.slackChannel\.workspaceId: must be a Slack workspace id[^\n]*\n[^\n]*alarms\.slackChannel\.channelId: must be a Slack channel id/,
    );
  });

  it('refuses "*" as a production CORS origin, and allows it in dev', () => {
    const message = refusal('prod', {
      ...PROD_OPERATOR_CONTEXT,
      corsAllowedOrigins: 'https://console.acme-agents.io,*',
    });
    expect(message).toMatch(
      /- api\.corsAllowedOrigins: "\*" lets any web page call the production API.*-c corsAllowedOrigins=/,
    );
    expect(devConfig().api.corsAllowedOrigins).toEqual(['*']);
  });

  it.each([
    [
      'alarmEmail',
      'ops@example.com',
      'alarms.emails.0',
      /example\.com is a reserved example domain.*-c alarmEmail=/,
    ],
    ['alarmEmail', 'oncall@acme.test', 'alarms.emails.0', /acme\.test is a reserved example domain/],
    [
      'alarmTopicArn',
      'arn:aws:sns:eu-west-1:123456789012:alerts',
      'alarms.snsTopicArns.0',
      /123456789012 is an example account id.*-c alarmTopicArn=/,
    ],
    [
      'corsAllowedOrigins',
      'https://app.example.com',
      'api.corsAllowedOrigins.0',
      /example\.com.*-c corsAllowedOrigins=/,
    ],
    [
      'corsAllowedOrigins',
      'https://changeme.acme-agents.io',
      'api.corsAllowedOrigins.0',
      /reads like a placeholder/,
    ],
    ['alarmEmail', 'oncall@yourcompany.com', 'alarms.emails.0', /reads like a placeholder/],
  ])('refuses the placeholder -c %s=%s, naming %s', (key, value, where, reason) => {
    const message = refusal('prod', { ...PROD_OPERATOR_CONTEXT, [key]: value });
    const line = message.split('\n').find((l) => l.startsWith(`  - ${where}:`)) ?? '';
    expect(line).toContain(`"${value}" is a placeholder`);
    expect(line).toMatch(reason);
  });

  it('refuses placeholders in dev too, and in cdk.json settings (naming the cdk.json key)', () => {
    expect(refusal('dev', { alarmEmail: 'me@example.org' })).toContain(
      'alarms.emails.0: "me@example.org" is a placeholder',
    );
    const message = refusal('dev', {
      environments: {
        dev: {
          ...(cdkJsonContext().environments as Record<string, object>).dev,
          outbound: { sesFromAddress: 'noreply@example.net' },
        },
      },
    });
    expect(message).toContain('outbound.sesFromAddress: "noreply@example.net" is a placeholder');
    expect(message).toContain('outbound.sesFromAddress in cdk.json');
  });

  it('adds comma-separated subscribers to those of cdk.json and replaces the origins', () => {
    const base = cdkJsonContext();
    const environments = base.environments as Record<string, Record<string, unknown>>;
    const prod = loadEnvironmentConfig(
      appWith({
        ...base,
        environments: {
          ...environments,
          prod: {
            ...environments.prod,
            alarms: { emails: ['pager@acme-agents.io'] },
            api: {
              ...(environments.prod?.api as object),
              corsAllowedOrigins: ['https://old.acme-agents.io'],
            },
          },
        },
        env: 'prod',
        alarmEmail: 'a@acme-agents.io, b@acme-agents.io',
        alarmTopicArn: PROD_OPERATOR_CONTEXT.alarmTopicArn,
        corsAllowedOrigins: 'https://console.acme-agents.io,https://chat.acme-agents.io',
      }),
    );
    expect(prod.alarms).toEqual({
      emails: ['pager@acme-agents.io', 'a@acme-agents.io', 'b@acme-agents.io'],
      snsTopicArns: [PROD_OPERATOR_CONTEXT.alarmTopicArn],
    });
    expect(prod.api.corsAllowedOrigins).toEqual([
      'https://console.acme-agents.io',
      'https://chat.acme-agents.io',
    ]);
  });

  it('refuses more than four operator topics (an alarm takes five actions, one is the platform topic)', () => {
    const arns = [1, 2, 3, 4, 5].map((n) => `arn:aws:sns:eu-west-1:210987654321:team-${n}`).join(',');
    expect(refusal('prod', { ...PROD_OPERATOR_CONTEXT, alarmTopicArn: arns })).toContain(
      'alarms.snsTopicArns:',
    );
  });

  it('ships no placeholder and no subscriber in cdk.json', () => {
    const strings: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
    };
    collect(cdkJsonContext().environments);
    expect(strings.filter((value) => placeholderReason(value) !== undefined)).toEqual([]);
    for (const env of Object.values(cdkJsonContext().environments as Record<string, { alarms?: unknown }>)) {
      expect(env.alarms).toBeUndefined();
    }
  });

  it('takes reserved concurrency by function name, and none by default', () => {
    expect(devConfig().lambda.reservedConcurrency).toEqual({});
    const prod = loadEnvironmentConfig(
      appWith({ ...cdkJsonContext(), ...PROD_OPERATOR_CONTEXT, env: 'prod' }),
    );
    expect(prod.lambda.reservedConcurrency).toEqual({ 'execution-worker': 10 });
    expect(() =>
      parseEnvironmentConfig('dev', {
        ...devConfig(),
        lambda: { ...devConfig().lambda, reservedConcurrency: { 'execution-worker': 0 } },
      }),
    ).toThrow(/lambda\.reservedConcurrency\.execution-worker/);
  });
});

describe('voice config', () => {
  const INSTANCE = 'arn:aws:connect:eu-west-2:210987654321:instance/0a1b2c3d-1111-2222-3333-444455556666';
  const voice = {
    instance: { create: { alias: 'acme-agents-dev' } },
    languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
  };
  /** dev, moved to London (Connect is not offered in dev's eu-west-1), with the given voice block. */
  const inLondon = (voiceBlock: unknown, region = 'eu-west-2') =>
    parseEnvironmentConfig('dev', { ...devConfig(), region, voice: voiceBlock });
  const refusedWith = (voiceBlock: unknown, region?: string): string => {
    try {
      inLondon(voiceBlock, region);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    return '';
  };

  it('is absent unless configured: the shipped environments have none', () => {
    expect(devConfig().voice).toBeUndefined();
  });

  it('takes an instance to create or an existing one, languages and an optional human queue', () => {
    expect(inLondon(voice).voice).toEqual(voice);
    expect(
      inLondon({ ...voice, instance: { arn: INSTANCE }, humanQueue: { create: {} } }).voice,
    ).toMatchObject({
      instance: { arn: INSTANCE },
      humanQueue: { create: {} },
    });
  });

  it('refuses voice where Amazon Connect is not offered, naming where it is', () => {
    const message = refusedWith(voice, 'eu-west-1');
    expect(message).toContain('voice: Amazon Connect is not offered in eu-west-1');
    expect(message).toContain('eu-west-2');
  });

  it('refuses an instance of another region, a locale named twice, and malformed ids', () => {
    expect(
      refusedWith({ ...voice, instance: { arn: INSTANCE.replace('eu-west-2', 'us-east-1') } }),
    ).toContain("voice.instance.arn: the instance must be in the environment's region (eu-west-2)");
    expect(
      refusedWith({
        ...voice,
        languages: [
          { localeId: 'en_US', voiceId: 'Joanna' },
          { localeId: 'en_US', voiceId: 'Matthew' },
        ],
      }),
    ).toContain('voice.languages: must not name a locale twice');
    expect(refusedWith({ ...voice, languages: [{ localeId: 'english', voiceId: 'Joanna' }] })).toContain(
      'voice.languages.0.localeId',
    );
    expect(refusedWith({ ...voice, languages: [] })).toContain('voice.languages');
    expect(refusedWith({ ...voice, instance: { create: { alias: 'd-123' } } })).toContain('voice.instance');
    expect(refusedWith({ ...voice, humanQueue: { arn: 'BasicQueue' } })).toContain('voice.humanQueue');
  });

  it('refuses a placeholder instance ARN (example account), naming the -c setting', () => {
    const message = refusedWith({
      ...voice,
      instance: { arn: INSTANCE.replace('210987654321', '123456789012') },
    });
    expect(message).toContain('voice.instance.arn:');
    expect(message).toContain('-c voiceInstanceArn=');
  });

  it('-c voiceInstanceArn turns voice on with an existing instance (en_US / Joanna, a created queue by default)', () => {
    const base = cdkJsonContext();
    const environments = base.environments as Record<string, Record<string, unknown>>;
    const config = loadEnvironmentConfig(
      appWith({
        ...base,
        environments: { ...environments, dev: { ...environments.dev, region: 'eu-west-2' } },
        env: 'dev',
        voiceInstanceArn: INSTANCE,
      }),
    );
    expect(config.voice).toEqual({
      instance: { arn: INSTANCE },
      languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
      humanQueue: { create: {} },
    });
  });
});
