import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';
import { consoleUrlParameterName } from './console-hosting';

/**
 * What the billing Lambda needs to sell tokens (lambdas/composition/payments.ts reads it): Stripe as
 * the provider when the environment names the platform's Stripe secret, else none (purchases are
 * refused: a deployed stage never falls back to the local provider); the price of a token; the
 * consoles Checkout may return buyers to: the CORS origins, and the console the platform hosts
 * (console.enabled), whose address is in the console stack only, deployed after this one, so the
 * Lambda reads it from the parameter that stack writes (a fixed name, no reference between stacks).
 */
export function paymentsEnvironment(config: EnvironmentConfig): EnvironmentVariables {
  const payments = config.payments ?? {};
  const consoleOrigins = config.api.corsAllowedOrigins
    .filter((origin) => origin !== '*')
    .map((origin) => new URL(origin).origin);
  return {
    [ENV.PAYMENTS_PROVIDER]: payments.stripeSecretName ? 'stripe' : 'none',
    ...(payments.stripeSecretName ? { [ENV.STRIPE_SECRET_ID]: payments.stripeSecretName } : {}),
    ...(payments.tokenPrice ? { [ENV.TOKEN_PRICE]: JSON.stringify(payments.tokenPrice) } : {}),
    // Stripe Checkout sends the buyer back to the console that asked: only to one of these.
    ...(consoleOrigins.length > 0 ? { [ENV.CONSOLE_ORIGINS]: consoleOrigins.join(',') } : {}),
    ...(config.console.enabled
      ? { [ENV.CONSOLE_URL_PARAMETER]: consoleUrlParameterName(config.stageName) }
      : {}),
  };
}

/**
 * Reads the one platform Stripe secret (Secrets Manager appends `-` and six characters to its ARN),
 * and with a hosted console, the one parameter holding its URL.
 */
export function grantPayments(role: IRole, config: EnvironmentConfig): void {
  if (config.console.enabled) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['ssm:GetParameter'],
        resources: [
          Stack.of(role).formatArn({
            service: 'ssm',
            resource: 'parameter',
            // The name starts with `/`, which the ARN's `parameter/` already gives.
            resourceName: consoleUrlParameterName(config.stageName).slice(1),
          }),
        ],
      }),
    );
  }
  const name = config.payments?.stripeSecretName;
  if (!name) return;
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue'],
      resources: [
        Stack.of(role).formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${name}-??????`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
}
