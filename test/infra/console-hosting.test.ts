import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Source } from 'aws-cdk-lib/aws-s3-deployment';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  API_PATH_PATTERN,
  CONFIG_PATH_PATTERN,
  ConsoleHosting,
  VIEWER_ADDRESS_FUNCTION,
} from '../../lib/constructs/console-hosting';
import { CONSOLE_SECURITY_HEADERS } from '../../local/console-files';

const API_DOMAIN = 'abc123.execute-api.eu-west-1.amazonaws.com';
const WS_URL = 'wss://ws456.execute-api.eu-west-1.amazonaws.com/live';
const ORIGIN_VERIFY_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:OriginVerify-AbCdEf';
/** CloudFront's managed policies, by the ids its documentation gives. */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

function build(wsUrl: (stack: Stack) => string = () => WS_URL) {
  const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  const app = new App();
  const stack = new Stack(app, 'Console', { env: { account: '111111111111', region: 'eu-west-1' } });
  const hosting = new ConsoleHosting(stack, 'Console', {
    content: Source.asset(dist),
    apiDomainName: API_DOMAIN,
    originVerifySecretArn: ORIGIN_VERIFY_ARN,
    wsUrl: wsUrl(stack),
    removalPolicy: 'retain',
    logRetentionDays: 90,
  });
  return { app, stack, hosting, template: Template.fromStack(stack) };
}

type Deployment = { Properties: Record<string, unknown>; DependsOn?: string[] };

describe('console hosting (S3 + CloudFront)', () => {
  const { app, template } = build();

  it('keeps the files in a private, encrypted, SSL-only bucket that only the distribution reads', () => {
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
    expect(policy).toContain('AWS:SourceArn');
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('logs every viewer request to a private bucket of its own, kept as long as the environment keeps logs', () => {
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const logging = distribution.Properties.DistributionConfig.Logging;
    expect(logging.Prefix).toBe('cloudfront/');
    const logBucketId = logging.Bucket['Fn::GetAtt'][0];
    const logBucket = template.findResources('AWS::S3::Bucket')[logBucketId] as any;
    expect(logBucket.Properties).toMatchObject({
      // Standard log delivery writes with an ACL: only this bucket lets the writer own its objects.
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
    });
    expect(logBucket.DeletionPolicy).toBe('Retain');
    // The files' bucket stays owner-enforced: no ACL can open it.
    const filesBuckets = Object.entries(template.findResources('AWS::S3::Bucket')).filter(
      ([id]) => id !== logBucketId,
    ) as [string, any][];
    expect(filesBuckets).toHaveLength(1);
    expect(filesBuckets[0]?.[1].Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
  });

  it('serves over HTTPS only, index.html at the root', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          AllowedMethods: ['GET', 'HEAD'],
          Compress: true,
        }),
      }),
    });
  });

  it('forwards /v1/* to the API uncached, every method, every viewer header (Authorization too) but Host', () => {
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const config = distribution.Properties.DistributionConfig;
    expect(config.CacheBehaviors.map((b: { PathPattern: string }) => b.PathPattern).sort()).toEqual(
      [CONFIG_PATH_PATTERN, API_PATH_PATTERN].sort(),
    );
    const api = config.CacheBehaviors.find(
      (b: { PathPattern: string }) => b.PathPattern === API_PATH_PATTERN,
    );
    expect(api).toMatchObject({
      PathPattern: API_PATH_PATTERN,
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    // No origin path: the $default stage serves /v1/… as the distribution receives it.
    expect(origin).toMatchObject({
      DomainName: API_DOMAIN,
      CustomOriginConfig: {
        OriginProtocolPolicy: 'https-only',
        OriginSSLProtocols: ['TLSv1.2'],
        OriginReadTimeout: 30,
      },
    });
    expect(origin.OriginPath).toBeUndefined();
    // The API behaviour is the only one that reaches the API; the default one reaches the bucket.
    const bucketOrigin = config.Origins.find(
      (o: { Id: string }) => o.Id === config.DefaultCacheBehavior.TargetOriginId,
    );
    expect(bucketOrigin.S3OriginConfig).toBeDefined();
  });

  it('proves to the API that a /v1/* request came through it: the origin-verify secret by dynamic reference, never a literal', () => {
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const config = distribution.Properties.DistributionConfig;
    const api = config.CacheBehaviors.find(
      (b: { PathPattern: string }) => b.PathPattern === API_PATH_PATTERN,
    );
    const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(origin.OriginCustomHeaders).toEqual([
      {
        HeaderName: 'x-origin-verify',
        HeaderValue: `{{resolve:secretsmanager:${ORIGIN_VERIFY_ARN}:SecretString:::}}`,
      },
    ]);
    // The bucket's origin gets no such header: the secret goes to the API alone.
    const bucketOrigin = config.Origins.find(
      (o: { Id: string }) => o.Id === config.DefaultCacheBehavior.TargetOriginId,
    );
    expect(bucketOrigin.OriginCustomHeaders).toBeUndefined();
  });

  it('writes the viewer’s address for the API on /v1/* requests only, with a viewer-request function', () => {
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const config = distribution.Properties.DistributionConfig;
    const [fnId] = Object.keys(template.findResources('AWS::CloudFront::Function'));
    template.resourceCountIs('AWS::CloudFront::Function', 1);
    template.hasResourceProperties('AWS::CloudFront::Function', {
      AutoPublish: true,
      FunctionCode: VIEWER_ADDRESS_FUNCTION,
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
    const behaviours = new Map(
      config.CacheBehaviors.map((b: { PathPattern: string; FunctionAssociations?: unknown }) => [
        b.PathPattern,
        b.FunctionAssociations,
      ]),
    );
    expect(behaviours.get(API_PATH_PATTERN)).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    expect(behaviours.get(CONFIG_PATH_PATTERN)).toBeUndefined();
    expect(config.DefaultCacheBehavior.FunctionAssociations).toBeUndefined();
  });

  it('the function writes event.viewer.ip over any address the viewer sent, and leaves the rest of the request', () => {
    const run = (request: object, ip: string) =>
      runInNewContext(`${VIEWER_ADDRESS_FUNCTION}; handler(event)`, {
        event: { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip }, request },
      });
    const forged = {
      method: 'POST',
      uri: '/v1/auth/login',
      querystring: {},
      headers: {
        authorization: { value: 'Bearer t' },
        'x-viewer-address': {
          value: '192.0.2.1',
          multiValue: [{ value: '192.0.2.1' }, { value: '192.0.2.2' }],
        },
      },
      cookies: {},
    };
    expect(run(forged, '198.51.100.7')).toEqual({
      ...forged,
      headers: { authorization: { value: 'Bearer t' }, 'x-viewer-address': { value: '198.51.100.7' } },
    });
    expect(run({ ...forged, headers: {} }, '2001:db8::7').headers).toEqual({
      'x-viewer-address': { value: '2001:db8::7' },
    });
  });

  it('sends the security headers local mode sends, with the WebSocket API as the one other place to connect to', () => {
    const policies = template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const [policyId, policy] = Object.entries(policies).find(
      ([, p]) => !p.Properties.ResponseHeadersPolicyConfig.CorsConfig,
    ) as [string, any];
    const config = policy.Properties.ResponseHeadersPolicyConfig;
    const headers = config.SecurityHeadersConfig;
    expect(headers.ContentSecurityPolicy.ContentSecurityPolicy).toBe(
      CONSOLE_SECURITY_HEADERS['content-security-policy']?.replace(
        "connect-src 'self'",
        `connect-src 'self' ${WS_URL}`,
      ),
    );
    expect(headers.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 31_536_000,
      IncludeSubdomains: true,
      Override: true,
    });
    expect(headers.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(headers.ContentTypeOptions).toMatchObject({ Override: true });
    expect(headers.ReferrerPolicy).toMatchObject({ ReferrerPolicy: 'no-referrer' });
    expect(config.CustomHeadersConfig.Items).toEqual([
      {
        Header: 'Cross-Origin-Opener-Policy',
        Value: CONSOLE_SECURITY_HEADERS['cross-origin-opener-policy'],
        Override: true,
      },
    ]);
    // Every behaviour, the API's included, sends them (/config.json's policy adds CORS to the same).
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const { DefaultCacheBehavior, CacheBehaviors } = distribution.Properties.DistributionConfig;
    for (const behaviour of [DefaultCacheBehavior, ...CacheBehaviors]) {
      if (behaviour.PathPattern === CONFIG_PATH_PATTERN) continue;
      expect(behaviour.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    }
    expect(Object.keys(policies)).toHaveLength(2);
  });

  it('lets the chat widget on any site read /config.json (CORS on that file alone), with the same security headers', () => {
    const policies = template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const [corsId, cors] = Object.entries(policies).find(
      ([, p]) => p.Properties.ResponseHeadersPolicyConfig.CorsConfig,
    ) as [string, any];
    const [, plain] = Object.entries(policies).find(([id]) => id !== corsId) as [string, any];
    const config = cors.Properties.ResponseHeadersPolicyConfig;
    expect(config.CorsConfig).toEqual({
      AccessControlAllowOrigins: { Items: ['*'] },
      AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
      AccessControlAllowHeaders: { Items: ['*'] },
      AccessControlAllowCredentials: false,
      OriginOverride: true,
    });
    expect(config.SecurityHeadersConfig).toEqual(
      plain.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig,
    );
    expect(config.CustomHeadersConfig).toEqual(
      plain.Properties.ResponseHeadersPolicyConfig.CustomHeadersConfig,
    );
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as any[];
    const { DefaultCacheBehavior, CacheBehaviors } = distribution.Properties.DistributionConfig;
    const configBehaviour = CacheBehaviors.find(
      (b: { PathPattern: string }) => b.PathPattern === CONFIG_PATH_PATTERN,
    );
    // From the bucket, like every other file; only its headers differ.
    expect(configBehaviour).toMatchObject({
      TargetOriginId: DefaultCacheBehavior.TargetOriginId,
      AllowedMethods: ['GET', 'HEAD'],
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: DefaultCacheBehavior.CachePolicyId,
      ResponseHeadersPolicyId: { Ref: corsId },
    });
    expect(DefaultCacheBehavior.ResponseHeadersPolicyId).not.toEqual({ Ref: corsId });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('deploys hashed files for good and the rest revalidated, with a config.json naming the WebSocket API (known at deploy time)', () => {
    const built = build((stack) => new CfnParameter(stack, 'WsUrl').valueAsString);
    const deployed = built.template;
    const deployments = deployed.findResources('Custom::CDKBucketDeployment') as Record<string, Deployment>;
    const byCache = (cache: string) =>
      Object.entries(deployments).find(([, d]) =>
        JSON.stringify(d.Properties.SystemMetadata).includes(cache),
      );
    const [assetsId, assets] = byCache('immutable') ?? [];
    const [, pages] = byCache('"cache-control":"no-cache"') ?? [];
    // Older hashed files stay: a console opened before the deployment still loads its pages' chunks.
    expect(assets?.Properties).toMatchObject({
      Prune: false,
      Exclude: ['*'],
      Include: ['assets/*'],
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(assets?.Properties.DistributionPaths).toBeUndefined();
    expect(pages?.Properties).toMatchObject({
      Prune: true,
      Exclude: ['assets/*'],
      DistributionPaths: ['/*'],
    });
    // index.html names hashed files: they are in the bucket first.
    expect(pages?.DependsOn).toContain(assetsId);
    // config.json is filled in at deployment from the (token) URL, and names no API: it is this origin.
    const keys = pages?.Properties.SourceObjectKeys as string[];
    expect(keys).toHaveLength(2);
    const staged = join(
      built.app.synth().directory,
      `asset.${keys[1]?.replace(/\.zip$/, '')}`,
      'config.json',
    );
    expect(JSON.parse(readFileSync(staged, 'utf8'))).toEqual({ wsUrl: '<<marker:0xbaba:0>>' });
    expect(pages?.Properties.SourceMarkers).toEqual([{}, { '<<marker:0xbaba:0>>': { Ref: 'WsUrl' } }]);
  });

  it('is cdk-nag clean', () => {
    expect(
      new AwsSolutionsChecks()
        .validateScope(app)
        .violations.map(
          (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
        ),
    ).toEqual([]);
  });
});
