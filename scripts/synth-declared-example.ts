/**
 * Writes the templates of an example environment with declared agents (voice in eu-west-2, one
 * tenant with N agents) to a directory, for cfn-lint: `npm run lint:cfn` (W3005, the DependsOn CDK adds beside a GetAtt, is a warning every stack has).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPlatform } from '../test/infra/platform-fixture';

const out = process.argv[2] ?? 'cdk.out.declared';
const count = Number(process.argv[3] ?? 25);
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const fixture = buildPlatform('dev', {
  configOverrides: {
    region: 'eu-west-2',
    voice: {
      instance: { create: { alias: 'acme-agents-dev' } },
      languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
      humanQueue: { create: {} },
    },
    declaredTenants: [
      {
        id: `ten_01J${'0'.repeat(19)}DECK`,
        name: 'Acme Dental',
        slug: 'acme-dental',
        owner: { email: 'owner@acme-dental.example', name: 'Ada Owner' },
        agents: Array.from({ length: count }, (_, n) => ({
          id: `agt_01J${'0'.repeat(21)}${CROCKFORD[Math.floor(n / 32)]}${CROCKFORD[n % 32]}`,
          config: {
            name: `Front desk ${n}`,
            businessType: 'dental',
            model: { provider: 'bedrock', modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
          },
          channels: [{ type: 'voice' as const, phoneNumber: { countryCode: 'GB', type: 'DID' as const } }],
        })),
      },
    ],
  },
});
mkdirSync(out, { recursive: true });
for (const stack of [fixture.stateful, fixture.workflows, fixture.api, ...fixture.declaredTenants]) {
  writeFileSync(
    path.join(out, `${stack.stackName}.template.json`),
    JSON.stringify(Template.fromStack(stack).toJSON(), null, 1),
  );
}
console.log(`wrote ${out}`);
