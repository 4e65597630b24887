import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConsoleHosting } from '../../lib/constructs/console-hosting';
import { CONSOLE_SECURITY_HEADERS } from '../../local/console-files';

const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const WS_URL = 'wss://ws456.execute-api.eu-west-1.amazonaws.com/live';

function build(apiUrl: (stack: Stack) => string = () => API_URL) {
  const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  const app = new App();
  const stack = new Stack(app, 'Console', { env: { account: '111111111111', region: 'eu-west-1' } });
  const hosting = new ConsoleHosting(stack, 'Console', {
    contentPath: dist,
    apiUrl: apiUrl(stack),
    wsUrl: WS_URL,
    removalPolicy: 'retain',
  });
  return { app, stack, hosting, template: Template.fromStack(stack) };
}

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

  it('sends the security headers local mode sends, with the API as the one other place to connect to', () => {
    const [policy] = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy')) as any[];
    const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers.ContentSecurityPolicy.ContentSecurityPolicy).toBe(
      CONSOLE_SECURITY_HEADERS['content-security-policy']?.replace(
        "connect-src 'self'",
        `connect-src 'self' ${API_URL} ${WS_URL}`,
      ),
    );
    expect(headers.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 31_536_000,
      Override: true,
    });
    expect(headers.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(headers.ContentTypeOptions).toMatchObject({ Override: true });
    expect(headers.ReferrerPolicy).toMatchObject({ ReferrerPolicy: 'no-referrer' });
  });

  it('deploys the build with a config.json naming the API (known at deploy time), and refreshes the distribution', () => {
    const deployed = build((stack) => new CfnParameter(stack, 'ApiUrl').valueAsString).template;
    const [deployment] = Object.values(deployed.findResources('Custom::CDKBucketDeployment')) as any[];
    expect(deployment.Properties.Prune).toBe(true);
    // config.json's apiUrl is filled in at deployment from the (token) URL.
    expect(JSON.stringify(deployment.Properties.SourceMarkers)).toContain('{"Ref":"ApiUrl"}');
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
    expect(deployment.Properties.DistributionPaths).toEqual(['/index.html', '/config.json']);
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
