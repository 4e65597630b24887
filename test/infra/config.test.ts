import { App } from 'aws-cdk-lib';
import {
  ConfigError,
  type EnvironmentConfig,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config';
import { cdkJsonContext } from './platform-fixture';

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
    const config = loadEnvironmentConfig(appWith({ ...cdkJsonContext(), env }));
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
    const prod = loadEnvironmentConfig(appWith({ ...cdkJsonContext(), env: 'prod' }));
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
      alarmEmail: 'not-an-email',
    };
    let message = '';
    try {
      parseEnvironmentConfig('dev', raw);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(
      'Invalid configuration for environment "dev" (cdk.json context environments.dev)',
    );
    expect(message).toContain('region: must be an AWS region');
    expect(message).toContain('logRetentionDays: must be one of 1, 3, 5');
    expect(message).toContain('lambda.memoryMb:');
    expect(message).toContain('lambda.timeoutSeconds:');
    expect(message).toContain('alarmEmail:');
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
