import { Template } from 'aws-cdk-lib/assertions';
import { buildPlatform, type FixtureOptions, logicalIdOf } from './platform-fixture';

/** The billing Lambda sells tokens: Stripe with the platform's secret when configured, else nothing. */
describe('token purchases on AWS', () => {
  function billing(options: FixtureOptions) {
    const fixture = buildPlatform('dev', options);
    const template = Template.fromStack(fixture.api);
    const fn = fixture.api.api.functions.billing;
    const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const environment = resources[logicalIdOf(fixture.api, fn.function)]?.Properties.Environment as
      | { Variables: Record<string, unknown> }
      | undefined;
    const variables = environment?.Variables ?? {};
    const policies = Object.values(resources)
      .filter((r) => JSON.stringify(r).includes('secretsmanager:GetSecretValue'))
      .map((r) => JSON.stringify(r));
    return { variables, policies };
  }

  it('refuses purchases without a Stripe secret: never the local provider on a deployed stage', () => {
    const { variables, policies } = billing({});
    expect(variables.PAYMENTS_PROVIDER).toBe('none');
    expect(variables.STRIPE_SECRET_ID).toBeUndefined();
    expect(policies.filter((p) => p.includes('platform/stripe'))).toEqual([]);
  });

  it('uses Stripe with the named secret, readable by the billing Lambda alone, and the price', () => {
    const { variables, policies } = billing({
      configOverrides: {
        payments: {
          stripeSecretName: 'agent-platform/dev/platform/stripe',
          tokenPrice: { currency: 'EUR', minorUnitsPerToken: 2 },
        },
      },
    });
    expect(variables).toMatchObject({
      PAYMENTS_PROVIDER: 'stripe',
      STRIPE_SECRET_ID: 'agent-platform/dev/platform/stripe',
      TOKEN_PRICE: JSON.stringify({ currency: 'EUR', minorUnitsPerToken: 2 }),
    });
    const stripe = policies.filter((p) => p.includes('platform/stripe'));
    expect(stripe).toHaveLength(1);
    expect(stripe[0]).toContain(':secret:agent-platform/dev/platform/stripe-??????');
    expect(JSON.stringify(variables)).not.toMatch(/sk_|whsec_/);
  });

  it('gives the billing Lambda the CORS origins as the consoles Stripe Checkout may return to', () => {
    const { variables } = billing({
      configOverrides: {
        api: {
          throttling: { rateLimit: 100, burstLimit: 200 },
          corsAllowedOrigins: ['https://console.example.com/', '*', 'https://admin.example.com'],
        },
        payments: { stripeSecretName: 'agent-platform/dev/platform/stripe' },
      },
    });
    expect(variables.CONSOLE_ORIGINS).toBe('https://console.example.com,https://admin.example.com');
    expect(billing({}).variables.CONSOLE_ORIGINS).toBeUndefined();
  });
});
