import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { DnsPlan } from './dns-plan.ts';

export interface DnsStackProps extends StackProps {
  /** A plan without a hosted zone id: this stack creates the zone. */
  readonly plan: DnsPlan;
}

/**
 * `CortexDns`: the public hosted zone for `-c domain=...`, when no `-c hostedZoneId=` names an
 * existing one. Route 53 is global; the stack lives in the state stack's home region.
 *
 * First of two deploys: delegate the zone (its NameServers output) from the parent domain, then
 * deploy again with `-c hostedZoneId=<HostedZoneId output>`: the regional stacks add their
 * certificates (DNS-validated, which needs the delegation), custom domains, health checks and records.
 */
export class DnsStack extends Stack {
  readonly zone: route53.PublicHostedZone;

  constructor(scope: Construct, id: string, props: DnsStackProps) {
    super(scope, id, props);
    if (props.plan.hostedZoneId !== undefined) {
      throw new Error('DnsStack: the zone is imported (hostedZoneId); nothing to create');
    }
    this.zone = new route53.PublicHostedZone(this, 'Zone', {
      zoneName: props.plan.domain,
      comment: `Cortex control plane: ${props.plan.serviceName} and <region>.api.${props.plan.domain}`,
    });
    new CfnOutput(this, 'HostedZoneId', {
      value: this.zone.hostedZoneId,
      description: 'Deploy again with -c hostedZoneId=<this> once the zone is delegated',
    });
    new CfnOutput(this, 'NameServers', {
      value: Fn.join(',', this.zone.hostedZoneNameServers ?? []),
      description: `NS records to add for ${props.plan.domain} in its parent zone`,
    });
  }
}
