#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadEnvironmentConfig } from '../lib/config';
import { createPlatform } from '../lib/stacks/platform';

const app = new App();
try {
  createPlatform(app, loadEnvironmentConfig(app));
} catch (error) {
  // A configuration mistake is the user's to fix: show the message, not a stack trace.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
// cdk-nag 3 is a policy-validation plugin: it runs after synthesis, and any finding (error or
// warning) not acknowledged with Validations.of(scope).acknowledge({ id, reason }) fails `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
