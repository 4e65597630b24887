import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { importJWK, type JWK, SignJWT } from 'jose';
import { ConflictError, UnauthorizedError } from '../../domain/shared/errors';
import { OPERATOR_GROUP } from '../../domain/shared/principal';
import type { IdentityProvider, NewIdentity } from '../../domain/tenants/ports';
import type { Role } from '../../domain/tenants/rbac';
import type { AuthToken } from '../../domain/tenants/schemas';
import { isConditionFailure } from '../dynamodb/conditions';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
) => Promise<Buffer>;

const OPERATOR_ROLE = 'platform-operator';

export interface LocalIdentityOptions {
  readonly client: DynamoDBDocumentClient;
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

  async authenticate(email: string, password: string): Promise<AuthToken> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: this.key(email) }),
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
