import { Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { DnsPlan } from './dns-plan.ts';

export interface RegionalDnsProps {
  /** The validated DNS plan; its zone id must be set (imported zone). */
  readonly plan: DnsPlan;
  /** The region this stack serves. */
  readonly regionId: string;
  /** The region's HTTP API and the stage its custom domains map to. */
  readonly api: apigwv2.IHttpApi;
  readonly stage: apigwv2.IStage;
}

/**
 * One region's part of Route 53 (see dns-plan.ts for the layout): an ACM certificate for
 * `api.<domain>` and `<region>.api.<domain>` validated in the zone, both names as API Gateway custom
 * domains on the region's API, the health check on the region's `/health`, the alias record
 * `<region>.api.<domain>`, and the region's records in the `api.<domain>` routing sets.
 *
 * Principle 1: the failover path never touches any of this. A failover writes region status to the
 * table; `/health` then answers 503 and this health check takes the region out of DNS.
 */
export class RegionalDns extends Construct {
  readonly certificate: acm.Certificate;
  /** `api.<domain>` in this region: what clients reach through the routing records. */
  readonly serviceDomain: apigwv2.DomainName;
  /** `<region>.api.<domain>`: this region's API under its own name. */
  readonly regionalDomain: apigwv2.DomainName;
  readonly healthCheck: route53.HealthCheck;
  readonly zone: route53.IHostedZone;
  /** Every record this region creates (the regional name first). */
  readonly records: readonly route53.ARecord[];

  constructor(scope: Construct, id: string, props: RegionalDnsProps) {
    super(scope, id);
    const { plan, regionId } = props;
    const regionPlan = plan.regions[regionId];
    if (!regionPlan) throw new Error(`RegionalDns: ${regionId} is not in the DNS plan`);
    if (plan.hostedZoneId === undefined) {
      throw new Error('RegionalDns: needs the hosted zone id (-c hostedZoneId=...): zones are not looked up');
    }
    const stack = Stack.of(this);

    this.zone = route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: plan.hostedZoneId,
      zoneName: plan.domain,
    });
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: plan.serviceName,
      subjectAlternativeNames: [regionPlan.regionalName],
      validation: acm.CertificateValidation.fromDns(this.zone),
    });
    const domainName = (cid: string, name: string) => {
      const domain = new apigwv2.DomainName(this, cid, {
        domainName: name,
        certificate: this.certificate,
        endpointType: apigwv2.EndpointType.REGIONAL,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      const mapping = new apigwv2.ApiMapping(this, `${cid}Mapping`, {
        api: props.api,
        domainName: domain,
        stage: props.stage,
      });
      // The mapping names the stage ($default) rather than referencing it: create the stage first.
      mapping.node.addDependency(props.stage);
      return domain;
    };
    this.serviceDomain = domainName('ServiceDomain', plan.serviceName);
    this.regionalDomain = domainName('RegionalDomain', regionPlan.regionalName);

    // Route 53 checkers call the execute-api host directly: independent of our own zone and custom
    // domains, and HTTPS health checks do not validate certificates anyway.
    this.healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.HTTPS,
      fqdn: `${props.api.apiId}.execute-api.${regionId}.${stack.urlSuffix}`,
      port: plan.healthCheck.port,
      resourcePath: plan.healthCheck.resourcePath,
      enableSNI: true,
      requestInterval: Duration.seconds(plan.healthCheck.intervalSeconds),
      failureThreshold: plan.healthCheck.failureThreshold,
    });

    const records: route53.ARecord[] = [
      new route53.ARecord(this, 'RegionalRecord', {
        zone: this.zone,
        recordName: `${regionPlan.regionalName}.`,
        target: route53.RecordTarget.fromAlias(new DomainAlias(this.regionalDomain, false)),
        comment: `Cortex API in ${regionId}`,
      }),
    ];
    const ownRecords = new Map<string, route53.ARecord>();
    // Region targets first: a nested-set pointer needs its target set to exist (same stack).
    const ordered = [...regionPlan.routingRecords].sort(
      (a, b) => Number(a.target !== 'region') - Number(b.target !== 'region'),
    );
    for (const [i, record] of ordered.entries()) {
      const routing =
        'latencyRegion' in record.routing
          ? { region: record.routing.latencyRegion }
          : { failover: route53.Failover[record.routing.failover] };
      const toRegion = record.target === 'region';
      const aRecord = new route53.ARecord(this, `RoutingRecord${i}`, {
        zone: this.zone,
        recordName: `${record.recordName}.`,
        setIdentifier: record.setIdentifier,
        ...routing,
        // Failover alias records must evaluate target health; the health check decides for our API.
        target: route53.RecordTarget.fromAlias(
          toRegion
            ? new DomainAlias(this.serviceDomain, 'failover' in routing)
            : new ZoneRecordAlias(typeof record.target === 'string' ? '' : record.target.nestedSet),
        ),
        ...(toRegion ? { healthCheck: this.healthCheck } : {}),
        comment: toRegion
          ? `Cortex ${plan.serviceName} via ${regionId}`
          : `Cortex ${plan.serviceName}: next standby level`,
      });
      if (!toRegion) {
        const target = ownRecords.get(typeof record.target === 'string' ? '' : record.target.nestedSet);
        if (target) aRecord.node.addDependency(target);
      } else ownRecords.set(record.recordName, aRecord);
      records.push(aRecord);
    }
    this.records = records;
  }
}

/** Alias to an API Gateway regional custom domain (the L2 target cannot evaluate target health). */
class DomainAlias implements route53.IAliasRecordTarget {
  readonly #domain: apigwv2.DomainName;
  readonly #evaluateTargetHealth: boolean;
  constructor(domain: apigwv2.DomainName, evaluateTargetHealth: boolean) {
    this.#domain = domain;
    this.#evaluateTargetHealth = evaluateTargetHealth;
  }
  bind(): route53.AliasRecordTargetConfig {
    return {
      dnsName: this.#domain.regionalDomainName,
      hostedZoneId: this.#domain.regionalHostedZoneId,
      evaluateTargetHealth: this.#evaluateTargetHealth,
    };
  }
}

/** Alias to another record set of the same zone by name (a nested failover level). */
class ZoneRecordAlias implements route53.IAliasRecordTarget {
  readonly #name: string;
  constructor(name: string) {
    this.#name = name;
  }
  bind(_record: route53.IRecordSet, zone?: route53.IHostedZone): route53.AliasRecordTargetConfig {
    if (!zone || this.#name === '') throw new Error('ZoneRecordAlias: needs a zone and a record name');
    return { dnsName: `${this.#name}.`, hostedZoneId: zone.hostedZoneId, evaluateTargetHealth: true };
  }
}
