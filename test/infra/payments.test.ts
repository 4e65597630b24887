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
    return { fixture, template, variables, policies };
  }

  /** Every IAM statement of the API stack that allows an SSM action on the console's URL parameter, with its roles. */
  function parameterReads(template: Template) {
    const found: Array<{ roles: unknown; statement: Record<string, unknown> }> = [];
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      const properties = policy.Properties as {
        Roles: unknown;
        PolicyDocument: { Statement: Array<Record<string, unknown>> };
      };
      for (const statement of properties.PolicyDocument.Statement) {
        const ssm = [statement.Action].flat().some((action) => String(action).startsWith('ssm:'));
        if (ssm && JSON.stringify(statement.Resource).includes('console-url')) {
          found.push({ roles: properties.Roles, statement });
        }
      }
    }
    return found;
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

  it('lets the billing Lambda read the hosted console’s URL parameter, that one only, when the console is hosted', () => {
    const { fixture, template, variables } = billing({});
    expect(fixture.config.console.enabled).toBe(true);
    expect(variables.CONSOLE_URL_PARAMETER).toBe('/agent-platform/dev/console-url');
    // The parameter the console stack writes (console-stack.test.ts checks it has this name).
    expect(fixture.console).toBeDefined();
    const reads = parameterReads(template);
    expect(reads).toEqual([
      {
        roles: [{ Ref: logicalIdOf(fixture.api, fixture.api.api.functions.billing.role) }],
        statement: {
          Effect: 'Allow',
          Action: 'ssm:GetParameter',
          Resource: {
            'Fn::Join': [
              '',
              [
                `arn:aws:ssm:${fixture.config.region}:`,
                { Ref: 'AWS::AccountId' },
                ':parameter/agent-platform/dev/console-url',
              ],
            ],
          },
        },
      },
    ]);
    // Only the billing Lambda is told where it is.
    const named = Object.values(template.findResources('AWS::Lambda::Function')).filter((fn) =>
      JSON.stringify(fn).includes('CONSOLE_URL_PARAMETER'),
    );
    expect(named).toHaveLength(1);
  });

  it('gives nothing of the kind without a hosted console', () => {
    const { fixture, template, variables } = billing({ configOverrides: { console: { enabled: false } } });
    expect(fixture.console).toBeUndefined();
    expect(variables.CONSOLE_URL_PARAMETER).toBeUndefined();
    expect(parameterReads(template)).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('console-url');
  });
});
