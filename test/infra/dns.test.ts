/**
 * Route 53: skipped without a domain (and the synth says so), a new zone in CortexDns, or with an
 * imported zone each region's certificate, custom domains, health check and records per the
 * deployment pattern. Everything synthesizes offline: zones are imported by id, never looked up.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { FieldIssue } from '../../lib/core/errors.ts';
import { TopologyError } from '../../lib/core/errors.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { DNS_NOTICE } from '../../lib/infra/app.ts';
import { planDns } from '../../lib/infra/dns-plan.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import {
  buildCortexApp,
  DEFAULT_STACK_NAMES,
  defaultTopology,
  logicalId,
  templateOf,
  warningsOf,
} from './build.ts';
import { acknowledgements, awsSolutionsFindings } from './nag.ts';

const DOMAIN = 'cortex.example.com';
const ZONE_ID = 'Z0123456789ABCDEFGHIJ';
const { topology } = defaultTopology();

/** The default topology as active-passive: us-east-1 active, eu-west-1 then ap-south-1 standing by. */
function activePassive(): Topology {
  const raw = defaultTopologyJson();
  raw.deployment.pattern = 'active-passive';
  raw.deployment.regions['us-east-1'].traffic_weight = 100;
  Object.assign(raw.deployment.regions['eu-west-1'], { role: 'passive-warm', traffic_weight: 0 });
  Object.assign(raw.deployment.regions['ap-south-1'], { role: 'passive-cold', traffic_weight: 0 });
  return validateTopology(raw);
}

function issuesOf(fn: () => unknown): readonly FieldIssue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof TopologyError) return error.details;
    throw error;
  }
  throw new Error('expected a TopologyError');
}

function withHealthCheck(interval: number, threshold = 3): Topology {
  return {
    ...topology,
    failover_policies: {
      ...topology.failover_policies,
      health_check: {
        ...topology.failover_policies.health_check,
        interval_seconds: interval,
        failure_threshold: threshold,
      },
    },
    deployment: {
      ...topology.deployment,
      ...(topology.deployment.traffic_distribution
        ? {
            traffic_distribution: {
              ...topology.deployment.traffic_distribution,
              health_check_interval_seconds: interval,
            },
          }
        : {}),
    },
  };
}

/** Every record set's properties (untyped JSON, as `findResources` returns it). */
/** Builds once per variant and file: each synth of five stacks takes a few hundred ms. */
function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}
const withoutDomain = memo(() => buildCortexApp());
const importedZone = memo(() => buildCortexApp({ dns: { domain: DOMAIN, hostedZoneId: ZONE_ID } }));
const importedZoneActivePassive = memo(() =>
  buildCortexApp({ dns: { domain: DOMAIN, hostedZoneId: ZONE_ID }, topology: activePassive() }),
);

function recordsOf(template: Template) {
  return Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties);
}

describe('DNS plan (planDns)', () => {
  it('is undefined without a domain: no DNS at all', () => {
    expect(planDns(topology, {})).toBeUndefined();
  });

  it('rejects a 20 s interval: Route 53 checks every 10 or 30 s', () => {
    expect(issuesOf(() => planDns(withHealthCheck(20), { domain: DOMAIN }))).toContainEqual({
      field: 'deployment.traffic_distribution.health_check_interval_seconds',
      reason: 'Route 53 health checks run every 10 or 30 seconds, got 20',
    });
    expect(() => buildCortexApp({ topology: withHealthCheck(20), dns: { domain: DOMAIN } })).toThrow(
      /health_check_interval_seconds: Route 53 health checks run every 10 or 30 seconds, got 20/,
    );
  });

  it('takes the interval from the failover policy when the topology has no traffic distribution', () => {
    const { traffic_distribution: _, ...deployment } = topology.deployment;
    const base = { ...topology, deployment };
    expect(planDns({ ...base }, { domain: DOMAIN })?.healthCheck.intervalSeconds).toBe(30);
    const fast = {
      ...base,
      failover_policies: {
        ...base.failover_policies,
        health_check: { ...base.failover_policies.health_check, interval_seconds: 15 },
      },
    };
    expect(issuesOf(() => planDns(fast, { domain: DOMAIN }))).toContainEqual({
      field: 'failover_policies.health_check.interval_seconds',
      reason: 'Route 53 health checks run every 10 or 30 seconds, got 15',
    });
  });

  it('accepts 10 and 30 s, and failure thresholds 1-10 only', () => {
    expect(planDns(withHealthCheck(10, 1), { domain: DOMAIN })?.healthCheck).toMatchObject({
      intervalSeconds: 10,
      failureThreshold: 1,
    });
    expect(planDns(withHealthCheck(30, 10), { domain: DOMAIN })?.healthCheck.failureThreshold).toBe(10);
    for (const threshold of [0, 11]) {
      expect(issuesOf(() => planDns(withHealthCheck(30, threshold), { domain: DOMAIN }))).toContainEqual({
        field: 'failover_policies.health_check.failure_threshold',
        reason: `a Route 53 health check's failure threshold is 1-10, got ${threshold}`,
      });
    }
  });

  it('rejects a domain that is not a DNS name, a malformed zone id, and a zone id without a domain', () => {
    expect(issuesOf(() => planDns(topology, { domain: 'not a domain' }))[0]?.field).toBe('(context) domain');
    expect(issuesOf(() => planDns(topology, { domain: DOMAIN, hostedZoneId: 'zone-1' }))[0]?.field).toBe(
      '(context) hostedZoneId',
    );
    expect(issuesOf(() => planDns(topology, { hostedZoneId: ZONE_ID }))[0]).toEqual({
      field: '(context) hostedZoneId',
      reason: 'needs -c domain=<the zone name> as well',
    });
  });

  it('active-active: one latency record per region for api.<domain>', () => {
    const plan = planDns(topology, { domain: DOMAIN });
    for (const region of topology.regions) {
      expect(plan?.regions[region.region_id]).toEqual({
        regionId: region.region_id,
        regionalName: `${region.region_id}.api.${DOMAIN}`,
        routingRecords: [
          {
            recordName: `api.${DOMAIN}`,
            setIdentifier: region.region_id,
            routing: { latencyRegion: region.region_id },
            target: 'region',
          },
        ],
      });
    }
  });

  it('active-passive with one standby: PRIMARY is the active region, SECONDARY the failover_priority 1 region', () => {
    const ap = activePassive();
    const twoRegions: Topology = {
      ...ap,
      regions: ap.regions.filter((r) => r.region_id !== 'ap-south-1'),
      deployment: {
        ...ap.deployment,
        regions: Object.fromEntries(
          Object.entries(ap.deployment.regions).filter(([id]) => id !== 'ap-south-1'),
        ),
      },
    };
    const plan = planDns(twoRegions, { domain: DOMAIN });
    expect(plan?.regions['us-east-1']?.routingRecords).toEqual([
      {
        recordName: `api.${DOMAIN}`,
        setIdentifier: 'us-east-1-primary',
        routing: { failover: 'PRIMARY' },
        target: 'region',
      },
    ]);
    expect(plan?.regions['eu-west-1']?.routingRecords).toEqual([
      {
        recordName: `api.${DOMAIN}`,
        setIdentifier: 'eu-west-1-secondary',
        routing: { failover: 'SECONDARY' },
        target: 'region',
      },
    ]);
  });

  it('active-passive with more standbys: the SECONDARY is a nested failover set in priority order', () => {
    const plan = planDns(activePassive(), { domain: DOMAIN });
    const all = Object.values(plan?.regions ?? {}).flatMap((r) =>
      r.routingRecords.map((rec) => ({ owner: r.regionId, ...rec })),
    );
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          owner: 'us-east-1',
          recordName: `api.${DOMAIN}`,
          routing: { failover: 'PRIMARY' },
          target: 'region',
        }),
        expect.objectContaining({
          owner: 'eu-west-1',
          recordName: `api.${DOMAIN}`,
          routing: { failover: 'SECONDARY' },
          target: { nestedSet: `standby-1.api.${DOMAIN}` },
        }),
        expect.objectContaining({
          owner: 'eu-west-1',
          recordName: `standby-1.api.${DOMAIN}`,
          routing: { failover: 'PRIMARY' },
          target: 'region',
        }),
        expect.objectContaining({
          owner: 'ap-south-1',
          recordName: `standby-1.api.${DOMAIN}`,
          routing: { failover: 'SECONDARY' },
          target: 'region',
        }),
      ]),
    );
    expect(all).toHaveLength(4);
    // Each set has exactly one PRIMARY and one SECONDARY.
    for (const name of [`api.${DOMAIN}`, `standby-1.api.${DOMAIN}`]) {
      expect(
        all
          .filter((r) => r.recordName === name)
          .map((r) => Object.values(r.routing)[0])
          .sort(),
      ).toEqual(['PRIMARY', 'SECONDARY']);
    }
  });
});

describe('without a domain', () => {
  it('deploys no Route 53 resources and says so in a synth warning', () => {
    const built = withoutDomain();
    expect(built.dnsPlan).toBeUndefined();
    expect(built.dnsStack).toBeUndefined();
    for (const stack of [...built.regionalStacks, ...built.witnessStacks, built.stateStack]) {
      const resources = Object.values(
        templateOf(stack).toJSON().Resources as Record<string, { Type: string }>,
      );
      expect(resources.filter((r) => /Route53|CertificateManager|DomainName/.test(r.Type))).toEqual([]);
    }
    expect(dnsNotices(built)).toEqual([expect.stringMatching(/^DNS skipped: no domain given/)]);
    expect(warningsOf(built.stateStack)).toContainEqual(
      expect.stringMatching(/DNS skipped: no domain given/),
    );
    expect(built.stateStack.node.metadata.some((m) => JSON.stringify(m).includes(DNS_NOTICE.skipped))).toBe(
      true,
    );
  });

  it('lets probes discover peer APIs through SSM: own URL known, peers by parameter, GetParameter on those only', () => {
    const built = withoutDomain();
    const prefix = `/${built.topology.name}/api-url/`;
    for (const stack of built.regionalStacks) {
      const template = templateOf(stack);
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: `${prefix}${stack.regionId}`,
        Type: 'String',
        Value: { 'Fn::GetAtt': [logicalId(stack.api.api.node.defaultChild), 'ApiEndpoint'] },
      });
      const fn =
        template.findResources('AWS::Lambda::Function')[logicalId(stack.probe.function.node.defaultChild)];
      const env = fn?.Properties.Environment.Variables;
      expect(env.CORTEX_ENDPOINT_PARAMETER).toBe(`${prefix}{region}`);
      expect(stack.resolve(stack.endpoints.known)).toEqual({
        [stack.regionId]: { 'Fn::GetAtt': [logicalId(stack.api.api.node.defaultChild), 'ApiEndpoint'] },
      });
      const peers = built.topology.regions.map((r) => r.region_id).filter((r) => r !== stack.regionId);
      const policies = Object.values(template.findResources('AWS::IAM::Policy'));
      const ssm = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
        .filter((s) => s.Action === 'ssm:GetParameter');
      // The probe, the failover steps, the latency sampler and the DR runbooks' task, each on the
      // peers' parameters only.
      expect(ssm).toHaveLength(4);
      for (const statement of ssm) {
        const expected = peers.map((peer) => ({
          'Fn::Join': ['', [`arn:aws:ssm:${peer}:`, { Ref: 'AWS::AccountId' }, `:parameter${prefix}${peer}`]],
        }));
        expect(statement.Resource).toEqual(expect.arrayContaining(expected));
        expect(statement.Resource).toHaveLength(expected.length);
      }
    }
  });
});

describe('with -c domain only (a new zone)', () => {
  it('creates the public zone in CortexDns and outputs its id and name servers; regional DNS waits', () => {
    const built = buildCortexApp({ dns: { domain: DOMAIN } });
    const dnsStack = built.dnsStack;
    expect(dnsStack?.stackName).toBe('CortexDns');
    expect(dnsStack?.region).toBe(built.stateStack.region);
    const template = templateOf(dnsStack as NonNullable<typeof dnsStack>);
    template.hasResourceProperties('AWS::Route53::HostedZone', { Name: `${DOMAIN}.` });
    template.hasOutput('HostedZoneId', {});
    template.hasOutput('NameServers', {});
    for (const stack of built.regionalStacks) {
      templateOf(stack).resourceCountIs('AWS::Route53::RecordSet', 0);
      templateOf(stack).resourceCountIs('AWS::CertificateManager::Certificate', 0);
    }
    expect(dnsNotices(built)).toEqual([expect.stringContaining('-c hostedZoneId=<HostedZoneId output>')]);
    expect(warningsOf(dnsStack as NonNullable<typeof dnsStack>)).toContainEqual(
      expect.stringMatching(/Delegate it from the parent domain/),
    );
  });
});

describe('with -c domain and -c hostedZoneId (imported zone)', () => {
  function build(pattern?: 'active-passive') {
    return pattern ? importedZoneActivePassive() : importedZone();
  }

  function each(
    stacks: readonly RegionalStack[],
    fn: (stack: RegionalStack, template: Template) => void,
  ): void {
    expect(stacks.length).toBeGreaterThan(1);
    for (const stack of stacks) fn(stack, templateOf(stack));
  }

  it('creates no zone: every stack imports it by id, without lookups', () => {
    const built = build();
    expect(built.dnsStack).toBeUndefined();
    expect(dnsNotices(built)).toEqual([]);
    each(built.regionalStacks, (_stack, template) => {
      template.resourceCountIs('AWS::Route53::HostedZone', 0);
      for (const record of recordsOf(template)) expect(record.HostedZoneId).toBe(ZONE_ID);
    });
  });

  it('gives each regional API a certificate for api.<domain> and <region>.api.<domain>, validated in the zone', () => {
    each(build().regionalStacks, (stack, template) => {
      const regional = `${stack.regionId}.api.${DOMAIN}`;
      template.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: `api.${DOMAIN}`,
        SubjectAlternativeNames: [regional],
        ValidationMethod: 'DNS',
        DomainValidationOptions: [
          { DomainName: `api.${DOMAIN}`, HostedZoneId: ZONE_ID },
          { DomainName: regional, HostedZoneId: ZONE_ID },
        ],
      });
      for (const name of [`api.${DOMAIN}`, regional]) {
        template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
          DomainName: name,
          DomainNameConfigurations: [
            Match.objectLike({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }),
          ],
        });
      }
      const mappings = Object.values(template.findResources('AWS::ApiGatewayV2::ApiMapping'));
      expect(mappings).toHaveLength(2);
      for (const mapping of mappings) {
        expect(mapping.Properties).toMatchObject({
          ApiId: { Ref: logicalId(stack.api.api.node.defaultChild) },
          Stage: '$default',
        });
        expect(mapping.DependsOn).toContain(logicalId(stack.api.stage.node.defaultChild));
      }
    });
  });

  it("checks each region's /health over HTTPS on its execute-api host, at the topology's interval and threshold", () => {
    const plan = planDns(topology, { domain: DOMAIN });
    each(build().regionalStacks, (stack, template) => {
      template.resourceCountIs('AWS::Route53::HealthCheck', 1);
      template.hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: {
          Type: 'HTTPS',
          FullyQualifiedDomainName: {
            'Fn::Join': [
              '',
              [
                { Ref: logicalId(stack.api.api.node.defaultChild) },
                `.execute-api.${stack.regionId}.`,
                { Ref: 'AWS::URLSuffix' },
              ],
            ],
          },
          Port: 443,
          ResourcePath: '/health',
          EnableSNI: true,
          RequestInterval: plan?.healthCheck.intervalSeconds,
          FailureThreshold: topology.failover_policies.health_check.failure_threshold,
          Inverted: false,
        },
      });
    });
  });

  it('active-active: a latency alias record per region for api.<domain>, tied to that region’s health check', () => {
    each(build().regionalStacks, (stack, template) => {
      const healthCheck = { Ref: logicalId(stack.dns?.healthCheck.node.defaultChild) };
      const records = recordsOf(template);
      expect(records).toContainEqual({
        Name: `api.${DOMAIN}.`,
        Type: 'A',
        HostedZoneId: ZONE_ID,
        SetIdentifier: stack.regionId,
        Region: stack.regionId,
        HealthCheckId: healthCheck,
        AliasTarget: {
          DNSName: {
            'Fn::GetAtt': [logicalId(stack.dns?.serviceDomain.node.defaultChild), 'RegionalDomainName'],
          },
          HostedZoneId: {
            'Fn::GetAtt': [logicalId(stack.dns?.serviceDomain.node.defaultChild), 'RegionalHostedZoneId'],
          },
          EvaluateTargetHealth: false,
        },
        Comment: expect.any(String),
      });
      expect(records).toContainEqual(
        expect.objectContaining({
          Name: `${stack.regionId}.api.${DOMAIN}.`,
          Type: 'A',
          AliasTarget: expect.objectContaining({
            DNSName: {
              'Fn::GetAtt': [logicalId(stack.dns?.regionalDomain.node.defaultChild), 'RegionalDomainName'],
            },
          }),
        }),
      );
      expect(records).toHaveLength(2);
      for (const record of records) expect(record.TTL).toBeUndefined(); // alias records: no TTL
    });
  });

  it('active-passive: failover records, PRIMARY the active region, SECONDARY chaining the standbys', () => {
    const built = build('active-passive');
    const byRegion = new Map(built.regionalStacks.map((s) => [s.regionId, s]));
    const records = (region: string) => recordsOf(templateOf(byRegion.get(region) as RegionalStack));
    const healthCheckOf = (region: string) => ({
      Ref: logicalId(byRegion.get(region)?.dns?.healthCheck.node.defaultChild),
    });

    expect(records('us-east-1')).toContainEqual(
      expect.objectContaining({
        Name: `api.${DOMAIN}.`,
        Failover: 'PRIMARY',
        SetIdentifier: 'us-east-1-primary',
        HealthCheckId: healthCheckOf('us-east-1'),
        AliasTarget: expect.objectContaining({ EvaluateTargetHealth: true }),
      }),
    );
    expect(records('eu-west-1')).toContainEqual(
      expect.objectContaining({
        Name: `api.${DOMAIN}.`,
        Failover: 'SECONDARY',
        AliasTarget: {
          DNSName: `standby-1.api.${DOMAIN}.`,
          HostedZoneId: ZONE_ID,
          EvaluateTargetHealth: true,
        },
      }),
    );
    expect(records('eu-west-1')).toContainEqual(
      expect.objectContaining({
        Name: `standby-1.api.${DOMAIN}.`,
        Failover: 'PRIMARY',
        HealthCheckId: healthCheckOf('eu-west-1'),
      }),
    );
    expect(records('ap-south-1')).toContainEqual(
      expect.objectContaining({
        Name: `standby-1.api.${DOMAIN}.`,
        Failover: 'SECONDARY',
        HealthCheckId: healthCheckOf('ap-south-1'),
      }),
    );
    // The pointer to standby-1 is created after the set it points to (Route 53 checks alias targets).
    const euTemplate = templateOf(byRegion.get('eu-west-1') as RegionalStack).toJSON().Resources as Record<
      string,
      { Properties: { Name: string; Failover?: string }; DependsOn?: string[] }
    >;
    const pointer = Object.values(euTemplate).find(
      (r) => r.Properties?.Name === `api.${DOMAIN}.` && r.Properties.Failover === 'SECONDARY',
    );
    const target = Object.entries(euTemplate).find(
      ([, r]) => r.Properties?.Name === `standby-1.api.${DOMAIN}.` && r.Properties.Failover === 'PRIMARY',
    );
    expect(pointer?.DependsOn).toContain(target?.[0]);
    for (const stack of built.regionalStacks) {
      expect(recordsOf(templateOf(stack)).some((r) => r.Region !== undefined)).toBe(false);
    }
  });

  it('gives the probes every region’s URL as https://<region>.api.<domain>: no SSM discovery needed', () => {
    const built = build();
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      expect(stack.endpoints.parameterTemplate).toBeUndefined();
      expect(stack.endpoints.known).toEqual(
        Object.fromEntries(
          built.topology.regions.map((r) => [r.region_id, `https://${r.region_id}.api.${DOMAIN}`]),
        ),
      );
      const ssm = Object.values(templateOf(stack).findResources('AWS::IAM::Policy')).flatMap((p) =>
        (p.Properties.PolicyDocument.Statement as { Action: unknown }[]).filter(
          (s) => s.Action === 'ssm:GetParameter',
        ),
      );
      expect(ssm).toEqual([]);
    }
  });
});

// cdk-nag for the two DNS variants is read here, from the synth this file makes anyway (the default
// app and the MRSC one are in cdk-nag.test.ts, with the full list of what may be acknowledged).
describe.each([
  ['a new zone (-c domain)', () => buildCortexApp({ dns: { domain: DOMAIN } }), ['CortexDns']],
  ['an imported zone (-c domain -c hostedZoneId)', importedZone, []],
])('cdk-nag AwsSolutions on the Cortex app with %s', (_name, build, extraStacks) => {
  it('report no unacknowledged error, and acknowledge nothing DNS-specific', () => {
    const built = build();
    expect(awsSolutionsFindings(built.app, built.outdir)).toEqual([]);
    expect(
      built.app.node.children
        .filter(Stack.isStack)
        .map((s) => s.stackName)
        .sort(),
    ).toEqual([...extraStacks, ...DEFAULT_STACK_NAMES].sort());
    const paths = acknowledgements(built.app).map((a) => a.path);
    expect(paths.filter((p) => p.includes('/Dns/') || p.startsWith('CortexDns'))).toEqual([]);
  });
});

/** The synth notices about DNS (the replication placement adds its own, `Replication: ...`). */
function dnsNotices(built: { readonly notices: readonly string[] }): string[] {
  return built.notices.filter((notice) => !notice.startsWith('Replication: '));
}
