import { Duration } from 'aws-cdk-lib';
import { type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import type { TenantAccess } from './tenant-access';

/** How often held reservations past their hold are given back. */
export const HOUSEKEEPING_RATE = Duration.minutes(5);

export interface ReservationHousekeepingProps {
  /** Stage, log settings and the token costs come from here. */
  readonly config: EnvironmentConfig;
  /** The table holding balances, reservations and the ledger. */
  readonly data: DataTableResources;
  /** Where `tokens.credited`-style events of the releases go. */
  readonly eventBus: IEventBus;
  /** The environment's tenant-access role, which the sweeper may (each release is the reservation's tenant's) assume to serve a tenant. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
}

/**
 * Releases reservations nobody settled or released before their hold ran out (a crashed
 * worker, a lost message), on a schedule, so held tokens always come back.
 */
export class ReservationHousekeeping extends Construct {
  /** The sweeping Lambda. */
  public readonly function: HouseFunction;
  /**
   * The EventBridge rule that invokes it (a rule, not a Scheduler schedule: it invokes through
   * the function's resource policy, so no role with a wildcard on the function's versions).
   */
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ReservationHousekeepingProps) {
    super(scope, id);
    const { config } = props;
    this.function = new HouseFunction(this, 'Sweeper', {
      entry: 'lambdas/handlers/events/release-expired-reservations.ts',
      description: `Releases token reservations whose hold expired (${config.stageName})`,
      serviceName: 'reservation-housekeeping',
      config,
      timeout: Duration.minutes(2),
      environment: {
        [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
        [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusName,
      },
      table: { resources: props.data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
      // A missed sweep is harmless (the next one catches up): no long retry tail, but a sweep that
      // fails every attempt is kept and alarmed on.
      asyncInvocation: { retryAttempts: 2, maxEventAge: Duration.minutes(10) },
    });
    const failedInvocations = this.function.failedInvocations as Queue;
    props.eventBus.grantPutEventsTo(this.function.role);
    this.rule = new Rule(this, 'Schedule', {
      description: `Every ${HOUSEKEEPING_RATE.toMinutes()} minutes: release expired token reservations (${config.stageName})`,
      schedule: Schedule.rate(HOUSEKEEPING_RATE),
      // Events the rule could not deliver at all (the function gone, throttled past the event age)
      // join the function's failed invocations.
      targets: [
        new LambdaFunction(this.function.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
          deadLetterQueue: failedInvocations,
        }),
      ],
    });
  }
}
