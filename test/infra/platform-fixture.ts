import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type EnvironmentConfig, loadEnvironmentConfig } from '../../lib/config';
import { createPlatform, type Platform } from '../../lib/stacks/platform';

export const REPO_ROOT = path.join(__dirname, '../..');

/** The `context` object of the real cdk.json, so the tests check the configuration that ships. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface FixtureOptions {
  /**
   * Run esbuild for every Lambda, as `cdk synth` does. Off by default: template assertions do not
   * need the bundles, and skipping them keeps a synth well under a second.
   */
  readonly bundle?: boolean;
  /** Replaces top-level settings of the cdk.json environment, to exercise the other branch of a flag. */
  readonly configOverrides?: Partial<EnvironmentConfig>;
  /**
   * The operator's `-c` settings. @default {@link PROD_OPERATOR_CONTEXT} for prod (which refuses
   * to synthesize without them), none for other environments.
   */
  readonly operatorContext?: Readonly<Record<string, string>>;
}

/** What an operator passes to synthesize prod, as the README's deploy section shows it. */
export const PROD_OPERATOR_CONTEXT: Readonly<Record<string, string>> = {
  alarmEmail: 'oncall@acme-agents.io',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:210987654321:ops-alerts',
  corsAllowedOrigins: 'https://console.acme-agents.io',
};

export interface PlatformFixture extends Platform {
  readonly app: App;
  readonly config: EnvironmentConfig;
}

/** Builds the app exactly as bin/app.ts does, for one environment of cdk.json. */
export function buildPlatform(envName: string, options: FixtureOptions = {}): PlatformFixture {
  const operatorContext = options.operatorContext ?? (envName === 'prod' ? PROD_OPERATOR_CONTEXT : {});
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...operatorContext, env: envName };
  // The CLI's --exclusively switch uses this context key to skip asset bundling.
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context });
  const config = { ...loadEnvironmentConfig(app), ...options.configOverrides };
  return { app, config, ...createPlatform(app, config) };
}

/** Logical id of a construct's CloudFormation resource, as it appears in the template. */
export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  const resource = construct.node.defaultChild;
  if (!CfnResource.isCfnResource(resource as CfnResource)) {
    throw new Error('construct has no CloudFormation resource as default child');
  }
  return stack.getLogicalId(resource as CfnResource);
}

/** How a stack's template refers to the stateful stack's alarm topic (a weak cross-stack reference). */
export function alarmTopicReference(fixture: PlatformFixture): unknown {
  const { stateful } = fixture;
  const topicRef = JSON.stringify({ Ref: logicalIdOf(stateful, stateful.alarms.topic) });
  const outputs = (Template.fromStack(stateful).toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>;
  const outputName = Object.entries(outputs).find(
    ([, output]) => JSON.stringify(output.Value) === topicRef,
  )?.[0];
  if (!outputName) throw new Error('the stateful stack does not output the alarm topic');
  return {
    'Fn::GetStackOutput': { StackName: stateful.stackName, Region: stateful.region, OutputName: outputName },
  };
}
