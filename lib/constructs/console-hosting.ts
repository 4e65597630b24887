import {
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  type ResponseSecurityHeadersBehavior,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { EDGE_HEADERS } from '../../lambdas/http/edge-headers';

export interface ConsoleHostingProps {
  /** The console's files: the build of console/ (lib/console-build.ts), index.html and widget.js at the root. */
  readonly content: ISource;
  /**
   * The HTTP API's host name (`<api id>.execute-api.<region>.amazonaws.com`), its `$default`
   * stage serving `/v1/…`: the distribution's second origin, for `/v1/*`.
   */
  readonly apiDomainName: string;
  /**
   * The API stack's origin-verify secret (its ARN): CloudFront sends its value to the API as
   * `x-origin-verify`, read by dynamic reference at deployment, so it is in no template.
   */
  readonly originVerifySecretArn: string;
  /** The WebSocket API's URL (wss://…/stage): the console's live events; in the CSP and /config.json. */
  readonly wsUrl: string;
  readonly removalPolicy: 'retain' | 'destroy';
  /** How long CloudFront's access logs (every viewer request, with its address) are kept. */
  readonly logRetentionDays: number;
}

/** The path pattern CloudFront forwards to the API: every route of the route table is under /v1/. */
export const API_PATH_PATTERN = '/v1/*';

/**
 * The SSM parameter (a fixed name per stage) the console stack writes the console's URL to, for
 * the billing Lambda of the API stack, deployed before it: Stripe Checkout may return buyers there.
 */
export function consoleUrlParameterName(stageName: string): string {
  return `/agent-platform/${stageName}/console-url`;
}

/**
 * The viewer-request function of `/v1/*`: the viewer's address (`event.viewer.ip`, a bare IPv4 or
 * IPv6 address) in `x-viewer-address`, over any value the viewer sent
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/example-function-add-true-client-ip-header.html).
 * JavaScript runtime 2.0: ES5 plus a little; no imports.
 */
export const VIEWER_ADDRESS_FUNCTION = `function handler(event) {
  var request = event.request;
  request.headers['${EDGE_HEADERS.VIEWER_ADDRESS}'] = { value: event.viewer.ip };
  return request;
}
`;

/** Read cross-origin by the chat widget on businesses' sites, so sent with CORS. */
export const CONFIG_PATH_PATTERN = '/config.json';

/** Hashed build files (`assets/index-<hash>.js`): their name changes with their content. */
const HASHED_FILES = 'assets/*';

/**
 * The console on AWS: its files in a private, encrypted, SSL-only S3 bucket that only this
 * CloudFront distribution may read (origin access control); HTTPS only (HTTP redirects), HTTP/2
 * and 3, and the security headers local mode sends (local/console-files.ts).
 *
 * The HTTP API is the distribution's second origin: `/v1/*` goes to it uncached, with every
 * viewer header, cookie and query string but Host (API Gateway answers 403 to a Host not its own).
 * Authorization reaches the API because caching is off: a custom origin request policy may not name
 * that header, but with caching disabled the managed AllViewer and AllViewerExceptHostHeader policies
 * forward it (https://repost.aws/knowledge-center/cloudfront-authorization-header), and no cache key
 * holds it. So the console calls the API on its own origin, needs no CORS and no API URL,
 * and `/widget.js` finds the API from its own `src` as locally. The WebSocket API keeps its own
 * `wss://` URL: `/config.json` gives it to the console and, read from businesses' sites (CORS on
 * that file alone), to the chat widget; the CSP allows it.
 *
 * The caller's address. API Gateway sees the edge server that connected as `sourceIp`, and sign-in
 * hands the caller's address to Cognito threat protection. So `/v1/*` requests carry two more
 * headers (lambdas/http/edge-headers.ts), which the API believes together only
 * (lambdas/http/caller-address.ts): `x-viewer-address`, the viewer's address written by a
 * viewer-request function from `event.viewer.ip` (over any value the viewer sent), and
 * `x-origin-verify`, an origin custom header holding the API stack's generated secret (CloudFront
 * overwrites a viewer's header of an origin custom header's name:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html).
 * A caller of the execute-api URL can send both headers but not the secret, and keeps its `sourceIp`.
 * Why not CloudFront's own `CloudFront-Viewer-Address` (`ip:port`,
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/adding-cloudfront-headers.html)?
 * A custom origin request policy would forward Authorization as long as it forwards every viewer
 * header (add-origin-custom-headers.html#add-origin-custom-headers-forward-authorization), but it
 * names CloudFront headers only with `allViewerAndWhitelistCloudFront`, which forwards Host too (API
 * Gateway answers 403), while `allExcept: [Host]` adds no CloudFront header
 * (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_OriginRequestPolicyHeadersConfig.html).
 * And we could not confirm from the managed-policy page
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html)
 * that AllViewerExceptHostHeader adds it: if it did not, a viewer's own header of that name would
 * reach the API with our proof beside it. A header the function writes is ours either way,
 * at the price of a function invocation per API request. The secret's value is in the
 * distribution's configuration (readable with `cloudfront:GetDistributionConfig`) but in no template.
 */
export class ConsoleHosting extends Construct {
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  public readonly headers: ResponseHeadersPolicy;
  /** The same headers plus `Access-Control-Allow-Origin: *`, for /config.json alone. */
  public readonly configHeaders: ResponseHeadersPolicy;
  /** CloudFront's access logs: the one record of a viewer's own address for the API's traffic too. */
  public readonly logBucket: Bucket;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const retain = props.removalPolicy === 'retain';
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
    });

    const securityHeadersBehavior: ResponseSecurityHeadersBehavior = {
      contentSecurityPolicy: {
        contentSecurityPolicy: [
          "default-src 'self'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self'",
          `connect-src 'self' ${props.wsUrl}`,
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "form-action 'self'",
          "object-src 'none'",
        ].join('; '),
        override: true,
      },
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(365),
        includeSubdomains: true,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
    };
    const customHeadersBehavior = {
      customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true }],
    };
    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Agent console: CSP (own files and API, the WebSocket API), HSTS, no framing, no sniffing',
      securityHeadersBehavior,
      customHeadersBehavior,
    });
    // The chat widget runs on businesses' own sites and reads the WebSocket API's URL from
    // /config.json (console/widget/widget.ts): that one file may be read from any origin. It names
    // only public URLs and is fetched without credentials.
    this.configHeaders = new ResponseHeadersPolicy(this, 'ConfigHeaders', {
      comment:
        'Agent console /config.json: the security headers, and readable from any origin (the chat widget)',
      securityHeadersBehavior,
      customHeadersBehavior,
      corsBehavior: {
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        originOverride: true,
      },
    });

    const viewerAddress = new EdgeFunction(this, 'ViewerAddress', {
      comment: `Writes the viewer's address for the API (${EDGE_HEADERS.VIEWER_ADDRESS}), over any the viewer sent`,
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(VIEWER_ADDRESS_FUNCTION),
    });

    // CloudFront's standard logs are the only record of a viewer's own address (the API's access
    // log sees an edge server). Their delivery writes with an ACL, so this bucket alone lets the
    // object writer own objects; SSE-S3, since log delivery cannot use a KMS key of ours.
    this.logBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays) }],
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
    });

    const filesOrigin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Agent console and chat widget; the HTTP API at /v1/*',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: filesOrigin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: this.headers,
      },
      additionalBehaviors: {
        [CONFIG_PATH_PATTERN]: {
          origin: filesOrigin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_OPTIMIZED,
          compress: true,
          responseHeadersPolicy: this.configHeaders,
        },
        [API_PATH_PATTERN]: {
          origin: new HttpOrigin(props.apiDomainName, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
            // An HTTP API integration answers within 30 s or fails: wait as long, not longer.
            readTimeout: Duration.seconds(30),
            customHeaders: {
              // A dynamic reference, resolved by CloudFormation at deployment: not a literal.
              [EDGE_HEADERS.ORIGIN_VERIFY]: SecretValue.secretsManager(
                props.originVerifySecretArn,
              ).unsafeUnwrap(),
            },
          }),
          // Redirecting would turn a POST into a GET: plain HTTP is refused instead.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // Every viewer header but Host: Authorization, and x-viewer-address as the function wrote it.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          functionAssociations: [{ function: viewerAddress, eventType: FunctionEventType.VIEWER_REQUEST }],
          compress: false,
          responseHeadersPolicy: this.headers,
        },
      },
    });

    // Hashed files are cached for good (their name changes with their content); everything else
    // (index.html, widget.js, config.json) is revalidated on every load, so a deployment shows at
    // once. The hashed files arrive before the index.html naming them. Older ones stay: a console
    // opened before a deployment fetches its pages' chunks (console/src/lazy.tsx) by their old names.
    const assets = new BucketDeployment(this, 'DeployAssets', {
      destinationBucket: this.bucket,
      sources: [props.content],
      exclude: ['*'],
      include: [HASHED_FILES],
      cacheControl: [
        CacheControl.setPublic(),
        CacheControl.maxAge(Duration.days(365)),
        CacheControl.immutable(),
      ],
      prune: false,
      memoryLimit: 256,
    });
    const pages = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [props.content, Source.jsonData('config.json', { wsUrl: props.wsUrl })],
      exclude: [HASHED_FILES],
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
    pages.node.addDependency(assets);

    const stack = Stack.of(this);
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds the console’s public build, read only through CloudFront (origin access control); its requests are CloudFront’s to log',
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives CloudFront’s access logs; logging the requests of the log delivery itself would only log the logging',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The console, the widget and the API serve businesses and their visitors in any country; the API enforces who may do what',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No web ACL: the static files take GET/HEAD only, and the API behind /v1/* throttles at its stage and authorizes every non-public route with a JWT (a CloudFront web ACL lives in us-east-1 and bills per month)',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate allows TLSv1 at the edge; a custom domain with its own certificate sets TLSv1.2_2021',
      },
    );
    // The deployment's handler is CDK's own (one per stack and memory size): its managed policy and
    // its grants (read the staged asset, write this bucket, invalidate this distribution) are CDK's.
    // Each finding is acknowledged by its exact id, so any other one is still reported.
    const asNagSees = (value: string, pseudo: string) =>
      Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
    const qualifier =
      (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ??
      DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const assetBucket = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
      /\$\{Qualifier\}/,
      qualifier,
    )
      .replace(/\$\{AWS::AccountId\}/, asNagSees(stack.account, 'AccountId'))
      .replace(/\$\{AWS::Region\}/, asNagSees(stack.region, 'Region'));
    const partition = asNagSees(stack.partition, 'Partition');
    for (const handler of stack.node.children.filter((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'CDK’s BucketDeployment handler (a Python Lambda inside aws-cdk-lib) has its runtime pinned by aws-cdk-lib; upgrading the library moves it',
      });
    }
    const filesLogicalId = stack.resolve(stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket));
    Validations.of(pages.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'CDK’s BucketDeployment handler writes its logs with the AWS-managed basic execution role, which grants CloudWatch Logs only',
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'CDK’s BucketDeployment grants to its handler: read the staged console build, and replace the files of the console bucket',
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:s3:::${assetBucket}/*]`,
        reason:
          'The staged console build is one object of the CDK bootstrap asset bucket, whose key is named by its hash at deployment',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${filesLogicalId}.Arn>/*]`,
        reason:
          'The deployment writes (and prunes) every file of the console bucket, which holds the console build alone',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudfront:CreateInvalidation/GetInvalidation take no resource narrower than the account in CDK’s BucketDeployment grant',
      },
    );
  }
}
