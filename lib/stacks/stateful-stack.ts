import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { AlarmNotifications } from '../constructs/alarm-notifications';
import { ContactCenter } from '../constructs/contact-center';
import { DataTable } from '../constructs/data-table';
import { PlatformEventBus } from '../constructs/event-bus';
import { Identity } from '../constructs/identity';
import { TenantAccess } from '../constructs/tenant-access';

export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Everything that holds data or identity and must outlive any redeploy of the code: the table,
 * the user pool, the event bus, the alarm topic with its subscriptions, and (with voice) the
 * Amazon Connect instance whose claimed numbers must survive a redeploy. Kept apart so the API
 * stack can be destroyed and rebuilt freely.
 */
export class StatefulStack extends Stack {
  public readonly data: DataTable;
  public readonly identity: Identity;
  public readonly events: PlatformEventBus;
  /** Where every alarm of the environment goes; its subscribers come from config. */
  public readonly alarms: AlarmNotifications;
  /** The one role whose sessions, tagged with a tenant, reach that tenant's items and secrets only. */
  public readonly tenantAccess: TenantAccess;
  /** The Amazon Connect instance and human queue, when the environment's config has `voice`. */
  public readonly contactCenter?: ContactCenter;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.deletionProtection });
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.data = new DataTable(this, 'Data', {
      removalPolicy,
      pointInTimeRecovery: config.pointInTimeRecovery,
      deletionProtection: config.deletionProtection,
    });

    // Beside the table it guards; the functions of the other stacks receive its ARN, never the
    // other way round.
    this.tenantAccess = new TenantAccess(this, 'TenantAccess', {
      stageName: config.stageName,
      data: this.data,
    });

    this.identity = new Identity(this, 'Identity', {
      stageName: config.stageName,
      removalPolicy,
      deletionProtection: config.deletionProtection,
      accessTokenValidity: Duration.minutes(config.cognito.accessTokenValidityMinutes),
      idTokenValidity: Duration.minutes(config.cognito.idTokenValidityMinutes),
      refreshTokenValidity: Duration.days(config.cognito.refreshTokenValidityDays),
      mfa: config.cognito.mfa,
      threatProtection: config.cognito.threatProtection,
    });

    this.events = new PlatformEventBus(this, 'Events', {
      stageName: config.stageName,
      archiveRetention: Duration.days(config.eventArchiveRetentionDays),
    });

    this.alarms = new AlarmNotifications(this, 'Alarms', {
      stageName: config.stageName,
      subscribers: config.alarms,
    });

    if (config.voice) {
      this.contactCenter = new ContactCenter(this, 'ContactCenter', { config, voice: config.voice });
    }
  }
}
