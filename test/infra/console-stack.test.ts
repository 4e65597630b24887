import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEPLOYED_ROUTE_KEYS, splitRouteKey } from '../../lambdas/http/route-table';
import { ConfigError, parseEnvironmentConfig } from '../../lib/config';
import { buildConsole, CONSOLE_BUILD_FILES } from '../../lib/console-build';
import { API_PATH_PATTERN } from '../../lib/constructs/console-hosting';
import type { ConsoleStack } from '../../lib/stacks/console-stack';
import { buildPlatform, logicalIdOf, type PlatformFixture, REPO_ROOT } from './platform-fixture';

type Json = Record<string, any>;

/** How `consumer` reads a value of `producer` (a weak reference: Fn::GetStackOutput of the output holding it). */
function weakReference(producer: Stack, value: unknown): Json {
  const wanted = JSON.stringify(value);
  const outputs = (Template.fromStack(producer).toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>;
  const name = Object.entries(outputs).find(([, output]) => JSON.stringify(output.Value) === wanted)?.[0];
  if (!name) throw new Error(`${producer.stackName} outputs no ${wanted}`);
  return {
    'Fn::GetStackOutput': { StackName: producer.stackName, Region: producer.region, OutputName: name },
  };
}

function consoleOf(fixture: PlatformFixture): ConsoleStack {
  if (!fixture.console) throw new Error(`no console stack in ${fixture.config.stageName}`);
  return fixture.console;
}

describe.each(['dev', 'prod'])('the console stack (%s)', (envName) => {
  let fixture: PlatformFixture;
  let stack: ConsoleStack;
  let template: Template;
  let distribution: Json;
  beforeAll(() => {
    fixture = buildPlatform(envName);
    stack = consoleOf(fixture);
    template = Template.fromStack(stack);
    distribution = (Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as Json)
      .Properties.DistributionConfig;
  });

  it(`is AgentPlatform-${envName}-Console, deployed after the API stack, which it refers to only weakly`, () => {
    expect(stack.stackName).toBe(`AgentPlatform-${envName}-Console`);
    expect(stack.dependencies.map((s) => s.stackName)).toContain(fixture.api.stackName);
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain('Fn::ImportValue');
    // Nothing refers to the console stack: it can be destroyed and redeployed on its own.
    for (const other of [fixture.stateful, fixture.workflows, fixture.api, ...fixture.declaredTenants]) {
      expect(JSON.stringify(Template.fromStack(other).toJSON())).not.toContain(stack.stackName);
    }
  });

  it('writes its URL to the fixed-name parameter the API stack’s billing Lambda reads', () => {
    const [distributionId] = Object.keys(template.findResources('AWS::CloudFront::Distribution'));
    template.resourceCountIs('AWS::SSM::Parameter', 1);
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: `/agent-platform/${envName}/console-url`,
      Type: 'String',
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] },
    });
    const billing = Template.fromStack(fixture.api).findResources('AWS::Lambda::Function', {
      Properties: {
        Environment: { Variables: { CONSOLE_URL_PARAMETER: `/agent-platform/${envName}/console-url` } },
      },
    });
    expect(Object.keys(billing)).toEqual([
      logicalIdOf(fixture.api, fixture.api.api.functions.billing.function),
    ]);
  });

  it('forwards /v1/* to the HTTP API’s $default stage host, uncached, with every viewer header but Host', () => {
    const behaviour = distribution.CacheBehaviors.find((b: Json) => b.PathPattern === API_PATH_PATTERN);
    expect(behaviour).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // Managed CachingDisabled and AllViewerExceptHostHeader: with caching off, the latter
      // forwards Authorization (a cache key would otherwise have to include it).
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const origin = distribution.Origins.find((o: Json) => o.Id === behaviour.TargetOriginId);
    const httpApi = fixture.api.api.httpApi;
    expect(origin.DomainName).toEqual({
      'Fn::Join': [
        '',
        [
          weakReference(fixture.api, { Ref: logicalIdOf(fixture.api, httpApi) }),
          `.execute-api.${fixture.config.region}.`,
          { Ref: 'AWS::URLSuffix' },
        ],
      ],
    });
    expect(origin.OriginPath).toBeUndefined();
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    // The stage it reaches serves the route table's paths as they are, every one under /v1/.
    expect(fixture.api.api.stage.stageName).toBe('$default');
    const paths = DEPLOYED_ROUTE_KEYS.map((key) => splitRouteKey(key).path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !p.startsWith(API_PATH_PATTERN.slice(0, -1)))).toEqual([]);
    // The API's own answers (4xx in its words) reach the console: no error page replaces them.
    expect(distribution.CustomErrorResponses).toBeUndefined();
  });

  it('sends the API stack’s origin-verify secret to the API by dynamic reference, which only the Lambdas that sign users in (auth, tenancy) may read', () => {
    const behaviour = distribution.CacheBehaviors.find((b: Json) => b.PathPattern === API_PATH_PATTERN);
    const origin = distribution.Origins.find((o: Json) => o.Id === behaviour.TargetOriginId);
    const secret = fixture.api.api.originVerifySecret;
    if (!secret) throw new Error('no origin-verify secret');
    const secretArn = { Ref: logicalIdOf(fixture.api, secret) };
    expect(origin.OriginCustomHeaders).toEqual([
      {
        HeaderName: 'x-origin-verify',
        HeaderValue: {
          'Fn::Join': [
            '',
            ['{{resolve:secretsmanager:', weakReference(fixture.api, secretArn), ':SecretString:::}}'],
          ],
        },
      },
    ]);
    // Generated in the API stack (a header value: letters and digits), and in neither template.
    const api = Template.fromStack(fixture.api);
    api.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    const secrets = Object.values(api.findResources('AWS::SecretsManager::Secret')) as Json[];
    expect(secrets.map((r) => r.Properties.SecretString)).toEqual([undefined]);
    // The Lambdas that sign users in (auth; tenancy, to turn one's TOTP off) get its ARN and
    // GetSecretValue on it; no other role names it.
    const readers = [fixture.api.api.functions.auth, fixture.api.api.functions.tenancy];
    for (const reader of readers) {
      const fn = api.toJSON().Resources[logicalIdOf(fixture.api, reader.function)];
      expect(fn.Properties.Environment.Variables.ORIGIN_VERIFY_SECRET_ARN).toEqual(secretArn);
    }
    const policies = api.findResources('AWS::IAM::Policy') as Record<string, Json>;
    const naming = Object.values(policies).filter((p) =>
      JSON.stringify(p).includes(JSON.stringify(secretArn)),
    );
    expect(naming.map((p) => p.Properties.Roles)).toEqual(
      expect.arrayContaining(readers.map((reader) => [{ Ref: logicalIdOf(fixture.api, reader.role) }])),
    );
    expect(naming).toHaveLength(readers.length);
    // (CDK merges it with the cursor key's statement: the same action on two secrets.)
    const reading = naming.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Json[]).filter((st) =>
        JSON.stringify(st.Resource).includes(JSON.stringify(secretArn)),
      ),
    );
    expect(reading.map((st) => [st.Effect, st.Action])).toEqual(
      readers.map(() => ['Allow', 'secretsmanager:GetSecretValue']),
    );
  });

  it('serves the files of a private, encrypted, SSL-only bucket through origin access control, HTTP redirected to HTTPS', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    const policy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toContain('"aws:SecureTransport":"false"');
    expect(policy).toContain('cloudfront.amazonaws.com');
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    expect(distribution.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
    });
    const bucketOrigin = distribution.Origins.find(
      (o: Json) => o.Id === distribution.DefaultCacheBehavior.TargetOriginId,
    );
    expect(bucketOrigin.OriginAccessControlId).toBeDefined();
  });

  it('allows the console to connect to its own origin and to the WebSocket API’s wss:// URL, nothing else', () => {
    const [policy] = Object.values(
      template.findResources('AWS::CloudFront::ResponseHeadersPolicy'),
    ) as Json[];
    const csp = policy?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy;
    const realtime = fixture.api.realtime.api;
    const [, parts] = csp.ContentSecurityPolicy['Fn::Join'];
    expect(parts[0]).toMatch(/connect-src 'self' wss:\/\/$/);
    expect(parts[1]).toEqual(weakReference(fixture.api, { Ref: logicalIdOf(fixture.api, realtime) }));
    expect(parts[2]).toBe(`.execute-api.${fixture.config.region}.`);
    expect(parts[4]).toMatch(/^\/live; frame-ancestors 'none';/);
    expect(fixture.api.realtime.stage.stageName).toBe('live');
  });

  it('writes a config.json that names the WebSocket API and no API URL (the API is on the same origin)', () => {
    const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment')) as Json[];
    const pages = deployments.find((d) => d.Properties.SourceMarkers);
    expect(pages?.Properties.SourceMarkers[1]).toEqual({
      '<<marker:0xbaba:0>>': weakReference(fixture.api, {
        Ref: logicalIdOf(fixture.api, fixture.api.realtime.api),
      }),
      '<<marker:0xbaba:1>>': { Ref: 'AWS::URLSuffix' },
    });
    const key = String(pages?.Properties.SourceObjectKeys[1]).replace(/\.zip$/, '');
    const configJson = readFileSync(
      path.join(fixture.app.synth().directory, `asset.${key}`, 'config.json'),
      'utf8',
    );
    expect(JSON.parse(configJson)).toEqual({
      wsUrl: `wss://<<marker:0xbaba:0>>.execute-api.${fixture.config.region}.<<marker:0xbaba:1>>/live`,
    });
  });

  it('outputs the console’s address as ConsoleUrl', () => {
    template.hasOutput('ConsoleUrl', {
      Value: {
        'Fn::Join': [
          '',
          ['https://', { 'Fn::GetAtt': [logicalIdOf(stack, stack.hosting.distribution), 'DomainName'] }],
        ],
      },
    });
  });

  it(`keeps ${envName === 'prod' ? 'the' : 'nothing of the'} console's buckets (files, access logs) when the stack is deleted`, () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')) as Json[];
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets)
      expect(bucket.DeletionPolicy).toBe(envName === 'prod' ? 'Retain' : 'Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', envName === 'prod' ? 0 : 2);
  });
});

describe('the console config', () => {
  it('names the stage in the CloudFront policy and access control names (unique per account across stages)', () => {
    const names = ['dev', 'prod'].map((env) => {
      const template = Template.fromStack(consoleOf(buildPlatform(env)));
      // Both response headers policies: the console's and /config.json's (CORS).
      const policies = Object.values(
        template.findResources('AWS::CloudFront::ResponseHeadersPolicy'),
      ) as Json[];
      expect(policies).toHaveLength(2);
      const [oac] = Object.values(template.findResources('AWS::CloudFront::OriginAccessControl')) as Json[];
      return [
        ...policies.map((policy) => policy.Properties.ResponseHeadersPolicyConfig.Name),
        oac?.Properties.OriginAccessControlConfig.Name,
      ] as string[];
    });
    expect(names[0]?.every((name) => name.includes('dev'))).toBe(true);
    expect(names[1]?.every((name) => name.includes('prod'))).toBe(true);
  });

  it('is off unless configured: no console stack, and then the API needs a browser origin', () => {
    const fixture = buildPlatform('dev', { configOverrides: { console: { enabled: false } } });
    expect(fixture.console).toBeUndefined();
    // Nothing for CloudFront to prove itself with: the sign-in keeps API Gateway's source address.
    expect(fixture.api.api.originVerifySecret).toBeUndefined();
    const api = Template.fromStack(fixture.api);
    api.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(api.toJSON())).not.toContain('ORIGIN_VERIFY_SECRET_ARN');
    expect(fixture.app.node.children.map((c) => c.node.id)).not.toContain('AgentPlatform-dev-Console');
    const { console: _, ...withoutConsole } = fixture.config;
    expect(parseEnvironmentConfig('dev', withoutConsole).console).toEqual({ enabled: false });
    expect(() =>
      parseEnvironmentConfig('dev', {
        ...withoutConsole,
        api: { ...fixture.config.api, corsAllowedOrigins: [] },
      }),
    ).toThrow(/- api\.corsAllowedOrigins: no browser origin is allowed/);
  });

  it('lets a production environment that hosts the console allow no CORS origin (the console is same-origin)', () => {
    const prod = buildPlatform('prod').config;
    const noOrigins = { ...prod, api: { ...prod.api, corsAllowedOrigins: [] } };
    expect(parseEnvironmentConfig('prod', noOrigins).console.enabled).toBe(true);
    expect(() => parseEnvironmentConfig('prod', { ...noOrigins, console: { enabled: false } })).toThrow(
      /api\.corsAllowedOrigins: no browser origin is allowed/,
    );
  });

  it.each([
    [{ enabled: 'yes' }, /- console\.enabled: /],
    [{}, /- console\.enabled: /],
    [{ enabled: true, domain: 'console.acme-agents.io' }, /- console: Unrecognized key: "domain"/],
    [true, /- console: /],
  ])('refuses console %j, naming the field', (value, message) => {
    const dev = buildPlatform('dev').config;
    let error: unknown;
    try {
      parseEnvironmentConfig('dev', { ...dev, console: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('the console build for deployment', () => {
  it('builds the console and the widget into the asset directory, not into console/dist', () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'console-asset-'));
    const served = path.join(REPO_ROOT, 'console', 'dist', 'index.html');
    const servedBefore = existsSync(served) ? statSync(served).mtimeMs : undefined;
    buildConsole(outDir);
    expect(existsSync(served) ? statSync(served).mtimeMs : undefined).toBe(servedBefore);
    const files = readdirSync(outDir, { recursive: true }).map(String);
    for (const file of CONSOLE_BUILD_FILES) expect(files).toContain(file);
    expect(files.some((file) => /^assets[/\\]index-[\w-]+\.js$/.test(file))).toBe(true);
    const index = readFileSync(path.join(outDir, 'index.html'), 'utf8');
    expect(index).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
  });

  it('fails naming npm ci and npm run build:console when vite is missing', () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'no-vite-'));
    expect(() => buildConsole(mkdtempSync(path.join(tmpdir(), 'console-asset-')), elsewhere)).toThrow(
      /vite is not installed.*`npm ci`.*`npm run build:console`/,
    );
  });
});
