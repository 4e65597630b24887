import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';

/**
 * What the billing Lambda needs to sell tokens (lambdas/composition/payments.ts reads it): Stripe as
 * the provider when the environment names the platform's Stripe secret, else none (purchases are
 * refused: a deployed stage never falls back to the local provider); the price of a token.
 */
export function paymentsEnvironment(config: EnvironmentConfig): EnvironmentVariables {
  const payments = config.payments ?? {};
  // TODO(issue 15): a console hosted by the platform (console.enabled) has its CloudFront domain
  // only in the console stack, which depends on this one: until it is passed back, give that
  // domain in corsAllowedOrigins too, or Checkout refuses to return there.
  const consoleOrigins = config.api.corsAllowedOrigins
    .filter((origin) => origin !== '*')
    .map((origin) => new URL(origin).origin);
  return {
    [ENV.PAYMENTS_PROVIDER]: payments.stripeSecretName ? 'stripe' : 'none',
    ...(payments.stripeSecretName ? { [ENV.STRIPE_SECRET_ID]: payments.stripeSecretName } : {}),
    ...(payments.tokenPrice ? { [ENV.TOKEN_PRICE]: JSON.stringify(payments.tokenPrice) } : {}),
    // Stripe Checkout sends the buyer back to the console that asked: only to one of these.
    ...(consoleOrigins.length > 0 ? { [ENV.CONSOLE_ORIGINS]: consoleOrigins.join(',') } : {}),
  };
}

/** Reads the one platform Stripe secret (Secrets Manager appends `-` and six characters to its ARN). */
export function grantPayments(role: IRole, config: EnvironmentConfig): void {
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
