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
  return {
    [ENV.PAYMENTS_PROVIDER]: payments.stripeSecretName ? 'stripe' : 'none',
    ...(payments.stripeSecretName ? { [ENV.STRIPE_SECRET_ID]: payments.stripeSecretName } : {}),
    ...(payments.tokenPrice ? { [ENV.TOKEN_PRICE]: JSON.stringify(payments.tokenPrice) } : {}),
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
