import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type ITableV2,
  ProjectionType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../lambdas/adapters/dynamodb/table-definition';

/** What a consumer in another stack needs to reach the table: enough for least-privilege grants. */
export interface DataTableResources {
  readonly table: ITableV2;
  /** Key the table is encrypted with; DynamoDB uses it on the caller's behalf. */
  readonly encryptionKey: IKey;
  /** Names of the global secondary indexes, so grants can name each index instead of `index/*`. */
  readonly indexNames: readonly string[];
  /**
   * The key listing cursors (positions in this table) are signed with; every function that reads
   * the table pages through it with cursors, so `HouseFunction` hands it to each (never logged).
   */
  readonly cursorKey: ISecret;
}

export interface DataTableProps {
  /** Applied to the table and its key: `RETAIN` wherever the data matters. */
  readonly removalPolicy: RemovalPolicy;
  /** Continuous backups (35 days of point-in-time restore). */
  readonly pointInTimeRecovery: boolean;
  /** Refuses `DeleteTable` until switched off, whatever CloudFormation asks for. */
  readonly deletionProtection: boolean;
}

/**
 * The platform's single DynamoDB table, shaped by TABLE_DEFINITION so that the stack, local mode
 * and the integration tests cannot disagree about keys or indexes.
 */
export class DataTable extends Construct implements DataTableResources {
  public readonly table: TableV2;
  /** Customer-managed key the table is encrypted with; readers and writers need it too. */
  public readonly encryptionKey: Key;
  /** Names of the table's global secondary indexes, for index-scoped IAM statements. */
  public readonly indexNames: readonly string[];
  public readonly cursorKey: Secret;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);

    // A customer-managed key (rather than the AWS-owned default) lets the key policy and CloudTrail
    // show who decrypted tenant data, and lets an operator revoke access by disabling the key.
    this.encryptionKey = new Key(this, 'Key', {
      description: 'Encrypts the agent platform data table',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: props.removalPolicy,
    });

    const { partitionKey, sortKey, timeToLiveAttribute, globalSecondaryIndexes } = TABLE_DEFINITION;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      sortKey: { name: sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute,
      globalSecondaryIndexes: globalSecondaryIndexes.map((gsi) => ({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      })),
      encryption: TableEncryptionV2.customerManagedKey(this.encryptionKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery },
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    this.indexNames = globalSecondaryIndexes.map((gsi) => gsi.indexName);

    // Generated here, read once per Lambda instance (lambdas/adapters/cursor-codec.ts).
    this.cursorKey = new Secret(this, 'CursorKey', {
      description: 'Signs the API listing cursors (HMAC-SHA256) of the agent platform data table',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.cursorKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The cursor signing key protects only the integrity of listing cursors, which live for minutes; it grants no access. Regenerating it (replace the secret) invalidates the cursors in flight and nothing else, so a rotation Lambda would add a moving part for no protection.',
    });
  }
}
