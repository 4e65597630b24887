import type { App, Environment } from 'aws-cdk-lib';
import { ConfigError, type EnvironmentConfig } from '../config';
import { houseFunctionsIn } from '../constructs/house-function';
import { ApiStack } from './api-stack';
import { ConsoleStack } from './console-stack';
import { DeclaredTenantStack, declaredTenantStackName } from './declared-tenant-stack';
import { StatefulStack } from './stateful-stack';
import { WorkflowStack } from './workflow-stack';

export const PROJECT_TAG = 'agent-platform';

export interface Platform {
  readonly stateful: StatefulStack;
  /** The state machines: long-lived, because approvals wait in them for up to 23 h. */
  readonly workflows: WorkflowStack;
  readonly api: ApiStack;
  /** The web console and chat widget behind CloudFront (the API at its `/v1/*`), when `console.enabled`. */
  readonly console?: ConsoleStack;
  /** One stack per tenant the config declares (`declaredTenants`), in config order. */
  readonly declaredTenants: readonly DeclaredTenantStack[];
}

/**
 * Adds one environment's stacks to an app. bin/app.ts and the infra tests both go through here,
 * so the tests check the very tree that `cdk synth` produces.
 */
export function createPlatform(app: App, config: EnvironmentConfig): Platform {
  // Without an account the stacks stay account-agnostic: synth needs no credentials, and
  // deploy targets whatever account the CLI is signed in to.
  const env: Environment = config.account
    ? { account: config.account, region: config.region }
    : { region: config.region };
  const prefix = `AgentPlatform-${config.stageName}`;
  // Stack tags rather than Tags.of(): CloudFormation propagates them to every taggable resource
  // (and the explicitStackTags feature flag ignores Tags.of() on stacks).
  const tags = { project: PROJECT_TAG, stage: config.stageName };

  const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
    env,
    tags,
    description: `Agent platform (${config.stageName}): data table, user pool, event bus`,
    config,
  });
  const workflows = new WorkflowStack(app, `${prefix}-Workflows`, {
    env,
    tags,
    description: `Agent platform (${config.stageName}): approval, monthly billing and provisioning state machines, their Lambdas, logs and schedule`,
    config,
    data: stateful.data,
    tenantAccess: stateful.tenantAccess,
    eventBus: stateful.events.bus,
    notifications: stateful.alarms,
    ...(stateful.contactCenter ? { contactCenter: stateful.contactCenter } : {}),
  });
  const api = new ApiStack(app, `${prefix}-Api`, {
    env,
    tags,
    description: `Agent platform (${config.stageName}): HTTP API, Lambdas, execution queue, dashboard and alarms`,
    config,
    data: stateful.data,
    tenantAccess: stateful.tenantAccess,
    userPool: stateful.identity.userPool,
    userPoolClient: stateful.identity.userPoolClient,
    issuerUrl: stateful.identity.issuerUrl,
    eventBus: stateful.events.bus,
    notifications: stateful.alarms,
    workflows,
    ...(stateful.contactCenter ? { contactCenter: stateful.contactCenter } : {}),
  });
  let consoleStack: ConsoleStack | undefined;
  if (config.console.enabled) {
    const originVerify = api.api.originVerifySecret;
    if (!originVerify) throw new Error('The API stack has no origin-verify secret, though the console is on');
    consoleStack = new ConsoleStack(app, `${prefix}-Console`, {
      env,
      tags,
      description: `Agent platform (${config.stageName}): web console and chat widget (S3 behind CloudFront, the HTTP API at /v1/*)`,
      config,
      httpApi: api.api.httpApi,
      originVerifySecretArn: originVerify.secretArn,
      webSocketUrl: api.realtime.url,
    });
    // CloudFront forwards /v1/* to the API: the API (and its outputs) exists first.
    consoleStack.addStackDependency(api);
  }
  const voice = api.voice;
  const declaredTenants = config.declaredTenants.map((tenant) => {
    const stack = new DeclaredTenantStack(app, declaredTenantStackName(config.stageName, tenant.slug), {
      env,
      tags: { ...tags, tenant: tenant.slug },
      description: `Agent platform (${config.stageName}): declared agents of tenant ${tenant.slug} (their records, contact flows, numbers)`,
      config,
      tenant,
      data: stateful.data,
      tenantAccess: stateful.tenantAccess,
      ...(voice
        ? {
            voice: {
              instanceArn: voice.instanceArn,
              // A created instance's Id attribute; an imported one's from its ARN (arn:…:instance/<id>).
              instanceId:
                stateful.contactCenter?.instance?.attrId ?? (voice.instanceArn.split('/').pop() as string),
              voiceLambdaArn: voice.voiceFunction.function.functionArn,
              botAliasArn: voice.botAliasArn,
              ...(voice.humanQueueArn ? { humanQueueArn: voice.humanQueueArn } : {}),
            },
          }
        : {}),
    });
    // The voice channel (flow's Lambda and bot, their associations) exists before any flow naming it.
    stack.addStackDependency(api);
    return stack;
  });
  checkReservedConcurrencyNames(app, config);
  return { stateful, workflows, api, ...(consoleStack ? { console: consoleStack } : {}), declaredTenants };
}

/** A reservation for a function that does not exist is a typo, not a no-op. */
function checkReservedConcurrencyNames(app: App, config: EnvironmentConfig): void {
  const known = new Set(houseFunctionsIn(app).map((fn) => fn.serviceName));
  const unknown = Object.keys(config.lambda.reservedConcurrency).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Invalid configuration for environment "${config.stageName}": lambda.reservedConcurrency names no function called ${unknown.join(', ')}. Functions: ${[...known].sort().join(', ')}`,
    );
  }
}
