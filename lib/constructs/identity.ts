import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { OPERATOR_GROUP } from '../../lambdas/domain/shared/principal';
import { ROLES } from '../../lambdas/domain/tenants/rbac';

/** Name of the immutable custom attribute; tokens carry it as the `custom:tenantId` claim. */
export const TENANT_ID_ATTRIBUTE = 'tenantId';

export interface IdentityProps {
  /** Short environment name, used in the pool's name. */
  readonly stageName: string;
  readonly removalPolicy: RemovalPolicy;
  /** Refuses to delete the pool (and with it every login) until switched off. */
  readonly deletionProtection: boolean;
  readonly accessTokenValidity: Duration;
  readonly idTokenValidity: Duration;
  readonly refreshTokenValidity: Duration;
  /** `optional` lets users enrol a TOTP authenticator; SMS codes are not offered. */
  readonly mfa: 'off' | 'optional';
  /** Cognito threat protection; anything but `off` moves the pool to the (billed) Plus feature plan. */
  readonly threatProtection: 'off' | 'audit' | 'enforced';
}

/**
 * Who may sign in: a Cognito user pool whose username is our user id, with e-mail as the sign-in
 * alias, the tenant fixed at creation in an immutable attribute, and one group per role.
 */
export class Identity extends Construct {
  public readonly userPool: UserPool;
  /**
   * The API's client: no secret; sign-in only through the API (admin password flow, which carries
   * the caller's context to threat protection) and refresh tokens.
   */
  public readonly userPoolClient: UserPoolClient;
  /** JWT issuer of the pool's tokens, as the HTTP API authorizer expects it. */
  public readonly issuerUrl: string;
  /** Group names, equal to the platform's role names. */
  public readonly groupNames: readonly string[];

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);

    const plus = props.threatProtection !== 'off';
    this.userPool = new UserPool(this, 'UserPool', {
      userPoolName: `agent-platform-${props.stageName}`,
      // Users are created by the registration and user-management endpoints (AdminCreateUser),
      // which write the tenant id; open sign-up would create users that belong to no tenant.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      standardAttributes: {
        email: { required: true, mutable: true },
        fullname: { required: false, mutable: true },
      },
      customAttributes: {
        [TENANT_ID_ATTRIBUTE]: new StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      // The same rule the API's zod schema applies, so that no password the API accepts is refused here.
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: false,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: props.mfa === 'optional' ? Mfa.OPTIONAL : Mfa.OFF,
      ...(props.mfa === 'optional' ? { mfaSecondFactor: { otp: true, sms: false } } : {}),
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: plus ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(plus
        ? {
            standardThreatProtectionMode:
              props.threatProtection === 'enforced'
                ? StandardThreatProtectionMode.FULL_FUNCTION
                : StandardThreatProtectionMode.AUDIT_ONLY,
          }
        : {}),
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });

    this.groupNames = [...ROLES];
    ROLES.forEach((role, precedence) => {
      new UserPoolGroup(this, `Group-${role}`, {
        userPool: this.userPool,
        groupName: role,
        description: `Users with the ${role} role`,
        // ROLES is ordered from most to least privileged; Cognito ranks 0 highest.
        precedence,
      });
    });

    // Platform operators: members have no tenant (no custom:tenantId) and reach only the
    // /v1/operator routes; every tenant route refuses them. Created by hand (admin-create-user
    // without a tenant, then admin-add-user-to-group), never through the API.
    new UserPoolGroup(this, 'Group-platform-operators', {
      userPool: this.userPool,
      groupName: OPERATOR_GROUP,
      description: 'Platform operators (outside every tenant): token grants and tenant settings',
      precedence: ROLES.length,
    });

    this.userPoolClient = this.userPool.addClient('ApiClient', {
      userPoolClientName: `agent-platform-${props.stageName}-api`,
      generateSecret: false,
      // Not USER_PASSWORD_AUTH: a sign-in straight to Cognito would bypass the API's context passing.
      authFlows: { adminUserPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: props.accessTokenValidity,
      idTokenValidity: props.idTokenValidity,
      refreshTokenValidity: props.refreshTokenValidity,
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
        .withCustomAttributes(TENANT_ID_ATTRIBUTE),
      // Listed explicitly, because an unset list lets the client write every writable attribute.
      // custom:tenantId must never be here: a user who could rewrite it would move to another tenant.
      writeAttributes: new ClientAttributes().withStandardAttributes({ fullname: true }),
    });

    this.issuerUrl = `https://${this.userPool.userPoolProviderUrl}`;

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG1',
      reason:
        'Passwords need 12+ characters with upper case, lower case and a digit but no symbol: the pool must accept exactly what the API’s registration schema accepts, and length is the stronger control (NIST SP 800-63B advises against composition rules).',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional (TOTP) or off per environment config: users enrol an authenticator through POST /v1/auth/mfa/totp and answer the challenge at POST /v1/auth/login/challenge, but tenants’ programmatic API users sign in unattended and cannot be made to answer one.',
    });
    if (!plus) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'This environment’s config sets cognito.threatProtection to off, so the pool stays on the Essentials plan and its per-user Plus charge is not paid; environments facing real users set audit or enforced, which selects Plus.',
      });
    }
  }
}
