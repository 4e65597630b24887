import type { App, Environment } from 'aws-cdk-lib';
import type { EnvironmentConfig } from '../config';
import { ApiStack } from './api-stack';
import { StatefulStack } from './stateful-stack';

export const PROJECT_TAG = 'agent-platform';

export interface Platform {
  readonly stateful: StatefulStack;
  readonly api: ApiStack;
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
  const api = new ApiStack(app, `${prefix}-Api`, {
    env,
    tags,
    description: `Agent platform (${config.stageName}): HTTP API, Lambdas, dashboard and alarms`,
    config,
    data: stateful.data,
    userPool: stateful.identity.userPool,
    userPoolClient: stateful.identity.userPoolClient,
    issuerUrl: stateful.identity.issuerUrl,
    eventBus: stateful.events.bus,
  });
  return { stateful, api };
}
