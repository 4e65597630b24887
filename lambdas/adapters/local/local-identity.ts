import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { importJWK, type JWK, SignJWT } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { ConflictError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import { OPERATOR_GROUP } from '../../domain/shared/principal';
import type { ChallengeAnswer, IdentityProvider, NewIdentity } from '../../domain/tenants/ports';
import type { Role } from '../../domain/tenants/rbac';
import type { AuthToken, SignInStep, TotpEnrolment } from '../../domain/tenants/schemas';
import { otpauthUri } from '../../domain/tenants/sign-in';
import { isConditionFailure } from '../dynamodb/conditions';
import type { TableClient } from '../dynamodb/document-client';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
) => Promise<Buffer>;

const OPERATOR_ROLE = 'platform-operator';

/** As Cognito's default: a challenge session lives three minutes. */
const CHALLENGE_SECONDS = 180;

const sessionExpired = () =>
  new UnauthorizedError('the sign-in session has expired, was used already or is unknown: sign in again');

/** Codes from the step before and after now are accepted, as authenticator clocks drift. */
const totpFor = (secretBase32: string) => new TOTP({ secret: Secret.fromBase32(secretBase32) });

/** The time step a code belongs to, or undefined when it matches none near now. */
function matchingCounter(secretBase32: string, code: string): number | undefined {
  const totp = totpFor(secretBase32);
  const delta = totp.validate({ token: code, window: 1 });
  return delta === null ? undefined : totp.counter() + delta;
}

type IdentityItem = Record<string, unknown>;

export interface LocalIdentityOptions {
  readonly client: TableClient;
  readonly tableName: string;
  readonly issuer: string;
  readonly audience: string;
  readonly signingJwk: string;
  readonly tokenTtlSeconds: number;
}

/**
 * Local mode's stand-in for Cognito: same claims (`sub`, `cognito:username`,
 * `custom:tenantId`, `cognito:groups`, `email`, `token_use`), RS256-signed, verified by the
 * local server against this issuer's JWKS the way API Gateway verifies Cognito's.
 * Credentials are scrypt hashes in local-only items (pk = LOCALID#<email>); on AWS, Cognito
 * holds credentials and none of this exists.
 */
export class LocalIdentityProvider implements IdentityProvider {
  private readonly signingKey: ReturnType<typeof importJWK>;
  private readonly kid: string | undefined;

  constructor(private readonly options: LocalIdentityOptions) {
    const jwk = JSON.parse(options.signingJwk) as JWK;
    this.kid = jwk.kid;
    this.signingKey = importJWK(jwk, 'RS256');
  }

  private key(email: string) {
    return { pk: `LOCALID#${email.toLowerCase()}`, sk: 'IDENTITY' };
  }

  async createUser(identity: NewIdentity): Promise<void> {
    const salt = randomBytes(16);
    const hash = await scrypt(identity.password, salt, 32);
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            ...this.key(identity.email),
            entity: 'localIdentity',
            userId: identity.userId,
            tenantId: identity.tenantId,
            email: identity.email.toLowerCase(),
            role: identity.role,
            passwordHash: hash.toString('base64'),
            passwordSalt: salt.toString('base64'),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError('email: is already registered', { field: 'email' });
      }
      throw error;
    }
  }

  /**
   * The local platform operator (what the `platform-operators` Cognito group is on AWS): an
   * account outside every tenant, its password set anew at each start. Returns its user id.
   */
  async ensureOperator(email: string, password: string): Promise<string> {
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, 32);
    const userId = 'local-operator';
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...this.key(email),
          entity: 'localIdentity',
          userId,
          email: email.toLowerCase(),
          role: OPERATOR_ROLE,
          passwordHash: hash.toString('base64'),
          passwordSalt: salt.toString('base64'),
        },
      }),
    );
    return userId;
  }

  /** The identity item when the password is right; UnauthorizedError as Cognito's otherwise. */
  private async checkPassword(email: string, password: string): Promise<IdentityItem> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: this.key(email), ConsistentRead: true }),
    );
    // Hash even for unknown emails so response time does not reveal which emails exist.
    const salt = Item ? Buffer.from(String(Item.passwordSalt), 'base64') : randomBytes(16);
    const expected = Item ? Buffer.from(String(Item.passwordHash), 'base64') : randomBytes(32);
    const actual = await scrypt(password, salt, 32);
    if (!Item || !timingSafeEqual(actual, expected)) {
      throw new UnauthorizedError('email or password is incorrect');
    }
    // As Cognito: a disabled user is told so, and only once the password was right.
    if (Item.disabled === true) throw new UnauthorizedError('this user is disabled');
    return Item;
  }

  /**
   * As Cognito with TOTP enabled: the right password yields a single-use session, not a token.
   * Only the session's hash is stored (local-only item, expiring with the session).
   */
  async authenticate(email: string, password: string): Promise<SignInStep> {
    const item = await this.checkPassword(email, password);
    if (typeof item.totpSecret !== 'string') return this.issueToken(item);
    const session = randomBytes(32).toString('base64url');
    const expiresAt = Math.floor(Date.now() / 1000) + CHALLENGE_SECONDS;
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...this.challengeKey(session),
          entity: 'localSignInChallenge',
          email: String(item.email),
          challenge: 'SOFTWARE_TOKEN_MFA',
          expiresAt,
        },
      }),
    );
    return { challenge: 'SOFTWARE_TOKEN_MFA', session };
  }

  private challengeKey(session: string) {
    return {
      pk: `LOCALCHALLENGE#${createHash('sha256').update(session).digest('base64url')}`,
      sk: 'CHALLENGE',
    };
  }

  async respondToChallenge(answer: ChallengeAnswer): Promise<SignInStep> {
    // Taken, whatever the outcome: a session answers once, so each guess costs a password.
    const { Attributes: pending } = await this.options.client.send(
      new DeleteCommand({
        TableName: this.options.tableName,
        Key: this.challengeKey(answer.session),
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (
      !pending ||
      Number(pending.expiresAt) <= Date.now() / 1000 ||
      pending.email !== answer.email.toLowerCase() ||
      pending.challenge !== answer.challenge
    ) {
      throw sessionExpired();
    }
    if (answer.code === undefined)
      throw ValidationError.forField('body.code', `is required to answer ${answer.challenge}`);
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: this.key(answer.email),
        ConsistentRead: true,
      }),
    );
    if (!Item || typeof Item.totpSecret !== 'string') throw sessionExpired();
    if (Item.disabled === true) throw new UnauthorizedError('this user is disabled');
    const counter = matchingCounter(Item.totpSecret, answer.code);
    if (counter === undefined) {
      throw new UnauthorizedError('the code is incorrect: sign in again for a new attempt');
    }
    await this.spendCode(answer.email, counter);
    return this.issueToken(Item);
  }

  /** A code signs in once: as Cognito, a code already used is refused. */
  private async spendCode(email: string, counter: number): Promise<void> {
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.key(email),
          UpdateExpression: 'SET totpLastCounter = :counter',
          ConditionExpression: 'attribute_not_exists(totpLastCounter) OR totpLastCounter < :counter',
          ExpressionAttributeValues: { ':counter': counter },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new UnauthorizedError('this code was used already: wait for the next one and sign in again');
      }
      throw error;
    }
  }

  async beginTotpEnrolment(email: string, password: string): Promise<TotpEnrolment> {
    const item = await this.checkPassword(email, password);
    if (typeof item.totpSecret === 'string')
      throw new ConflictError('TOTP MFA is already enabled for this user');
    const secretCode = new Secret({ size: 20 }).base32;
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: this.key(email),
        UpdateExpression: 'SET totpPendingSecret = :secret',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':secret': secretCode },
      }),
    );
    return { secretCode, otpauthUri: otpauthUri(String(item.email), secretCode) };
  }

  async confirmTotpEnrolment(email: string, password: string, code: string): Promise<void> {
    const item = await this.checkPassword(email, password);
    if (typeof item.totpSecret === 'string')
      throw new ConflictError('TOTP MFA is already enabled for this user');
    const pending = item.totpPendingSecret;
    if (typeof pending !== 'string') {
      throw new ConflictError('no TOTP enrolment is pending: start one with POST /v1/auth/mfa/totp');
    }
    const counter = matchingCounter(pending, code);
    if (counter === undefined)
      throw ValidationError.forField('body.code', 'does not match the authenticator');
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.key(email),
          UpdateExpression: 'SET totpSecret = :secret, totpLastCounter = :counter REMOVE totpPendingSecret',
          ConditionExpression: 'totpPendingSecret = :secret',
          ExpressionAttributeValues: { ':secret': pending, ':counter': counter },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new ConflictError('the TOTP enrolment changed meanwhile: start again');
      throw error;
    }
  }

  async totpEnabled(email: string): Promise<boolean> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: this.key(email), ConsistentRead: true }),
    );
    return typeof Item?.totpSecret === 'string';
  }

  /** As Cognito: the code must be a current one not used yet, and it is spent. */
  async disableTotp(email: string, password: string, code: string): Promise<void> {
    const item = await this.checkPassword(email, password);
    const secret = item.totpSecret;
    if (typeof secret !== 'string') throw new ConflictError('TOTP MFA is not enabled for this user');
    const counter = matchingCounter(secret, code);
    if (counter === undefined)
      throw ValidationError.forField('body.code', 'does not match the authenticator');
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.key(email),
          UpdateExpression: 'REMOVE totpSecret, totpPendingSecret, totpLastCounter',
          ConditionExpression:
            'totpSecret = :secret AND (attribute_not_exists(totpLastCounter) OR totpLastCounter < :counter)',
          ExpressionAttributeValues: { ':secret': secret, ':counter': counter },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw ValidationError.forField('body.code', 'was used already: wait for the next one');
      }
      throw error;
    }
  }

  /** The secret (and any pending one) is forgotten: enrolling again issues a new one. */
  async resetMfa(email: string): Promise<void> {
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.key(email),
          UpdateExpression: 'REMOVE totpSecret, totpPendingSecret, totpLastCounter',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async issueToken(Item: IdentityItem): Promise<AuthToken> {
    const ttl = this.options.tokenTtlSeconds;
    // An operator's token carries the operators' group and no tenant, as Cognito's would.
    const claims =
      Item.role === OPERATOR_ROLE
        ? { 'cognito:groups': [OPERATOR_GROUP] }
        : { 'custom:tenantId': String(Item.tenantId), 'cognito:groups': [String(Item.role)] };
    const token = await new SignJWT({
      'cognito:username': String(Item.userId),
      ...claims,
      email: String(Item.email),
      token_use: 'id',
    })
      .setProtectedHeader({ alg: 'RS256', ...(this.kid ? { kid: this.kid } : {}) })
      .setSubject(String(Item.userId))
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(await this.signingKey);
    return { token, tokenType: 'Bearer', expiresIn: ttl };
  }

  async setRole(email: string, role: Role): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: this.key(email),
        UpdateExpression: 'SET #role = :role',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#role': 'role' },
        ExpressionAttributeValues: { ':role': role },
      }),
    );
  }

  /**
   * Local tokens are stateless, so there is nothing to sign out: tokens already issued are
   * refused by the API's per-request check of the user record, as on AWS.
   */
  async disableUser(email: string): Promise<void> {
    await this.setDisabled(email, true);
  }

  async enableUser(email: string): Promise<void> {
    await this.setDisabled(email, false);
  }

  private async setDisabled(email: string, disabled: boolean): Promise<void> {
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.key(email),
          UpdateExpression: 'SET disabled = :disabled',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':disabled': disabled },
        }),
      );
    } catch (error) {
      // Like Cognito's UserNotFoundException on disable: an identity already gone stays gone.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async deleteUser(email: string): Promise<void> {
    await this.options.client.send(
      new DeleteCommand({ TableName: this.options.tableName, Key: this.key(email) }),
    );
  }
}
