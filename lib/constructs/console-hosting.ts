import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

export interface ConsoleHostingProps {
  /** The built console (console/dist, written by `npm run build:console`). */
  readonly contentPath: string;
  /** The API's base URL (https://…, no trailing slash): given to the console in /config.json. */
  readonly apiUrl: string;
  /** The WebSocket API's URL (wss://…/stage): the console's live events; in the CSP and /config.json. */
  readonly wsUrl?: string;
  readonly removalPolicy: 'retain' | 'destroy';
}

/**
 * The console on AWS: its files in a private, encrypted, SSL-only S3 bucket that only this
 * CloudFront distribution may read (origin access control); HTTPS only (HTTP redirects), HTTP/2
 * and 3, and the same security headers local mode sends (local/console-files.ts), with the API's
 * origin the one place scripts may connect to besides the console's own. `/config.json` tells the
 * console where the API is, so one build serves every environment. The API allows the
 * distribution's origin by CORS: add `https://<distributionDomainName>` to the environment's
 * `api.corsAllowedOrigins`.
 */
export class ConsoleHosting extends Construct {
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  public readonly headers: ResponseHeadersPolicy;

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

    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Agent console: CSP (own files, the API), HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            `connect-src 'self' ${props.apiUrl}${props.wsUrl ? ` ${props.wsUrl}` : ''}`,
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
      },
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Agent console',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: this.headers,
      },
    });

    // index.html and config.json are never cached by browsers (hashed assets are immutable), and
    // the distribution's copies are invalidated on each deployment.
    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(props.contentPath),
        Source.jsonData('config.json', {
          apiUrl: props.apiUrl,
          ...(props.wsUrl ? { wsUrl: props.wsUrl } : {}),
        }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      prune: true,
      memoryLimit: 256,
    });

    const stack = Stack.of(this);
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds the console’s public build, read only through CloudFront; its requests are CloudFront’s to log',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The console serves businesses in any country; the API enforces who may do what',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'Static files only, no write method; the API (a separate origin) carries its own throttling',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'TODO(issue 15): access logs need a log bucket with ACLs; static files, no user data',
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
    for (const handler of stack.node.children.filter((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'CDK’s BucketDeployment handler runtime is pinned by aws-cdk-lib',
      });
    }
    const filesLogicalId = stack.resolve(stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket));
    Validations.of(deployment.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK’s BucketDeployment handler logs with the basic execution role',
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: 'CDK’s BucketDeployment grants: read the staged build, replace the console bucket’s files',
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assetBucket}/*]`,
        reason: 'The staged build is one object in the CDK asset bucket, named at deployment',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${filesLogicalId}.Arn>/*]`,
        reason: 'The deployment writes every file of the console bucket',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudfront:CreateInvalidation/GetInvalidation take no resource narrower than the account in CDK’s grant',
      },
    );
  }
}
