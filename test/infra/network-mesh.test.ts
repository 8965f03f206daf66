/**
 * The opt-in network mesh (`-c network=mesh`, lib/infra/network-mesh.ts) on `topology/default.json`.
 * Invariants: off by default; each region's VPC takes exactly the block the pure plan gives it, its
 * subnets inside it; every pair of the plan is peered once (the first region of the pair requests,
 * after the accepter's stack), with routes to the peer's blocks on both sides; a plan with issues or
 * a bad context value stops the synth naming the field; cdk-nag finds nothing unacknowledged.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TopologyError } from '../../lib/core/errors.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { meshStacks } from '../../lib/infra/app.ts';
import { meshParameterName, meshSubnets, NetworkMeshStack } from '../../lib/infra/network-mesh.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { newApp } from './build.ts';
import { reportedFindings, synthesize } from './nag.ts';

const topology = validateTopology(defaultTopologyJson());
const plan = planMesh(topology);
const REGIONS = plan.regions.map((r) => r.region);

/** The three mesh stacks alone, in a fresh app with the AWS Solutions checks; synthesized once. */
const mesh = (() => {
  const { app, outdir } = newApp();
  const stacks = REGIONS.map(
    (region) =>
      new NetworkMeshStack(app, `CortexNetwork-${region}`, {
        env: { account: '111111111111', region },
        name: topology.name,
        regionId: region,
        plan,
        stateTableName: `${topology.name}-state`,
        stateTableActions: ['Query', 'PutItem'],
        mcpPorts: [443],
      }),
  );
  const synthError = synthesize(app);
  return {
    stacks,
    outdir,
    synthError,
    template: (i: number) => Template.fromStack(stacks[i] as NetworkMeshStack),
  };
})();

describe('the network mesh stacks', () => {
  it('give each region a VPC with exactly its planned block and two subnets inside it', () => {
    expect(plan.issues).toEqual([]);
    REGIONS.forEach((region, i) => {
      const block = plan.regions[i]?.cidrs[0] as string;
      const template = mesh.template(i);
      template.resourceCountIs('AWS::EC2::VPC', 1);
      template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: block });
      const subnets = Object.values(template.findResources('AWS::EC2::Subnet')).map(
        (s) => (s as { Properties: { CidrBlock: string } }).Properties.CidrBlock,
      );
      expect(subnets).toEqual(meshSubnets(block));
      expect(region).toBe(mesh.stacks[i]?.region);
    });
    expect(meshSubnets('10.1.0.0/16')).toEqual(['10.1.0.0/20', '10.1.16.0/20']);
  });

  it('give each region a Transit Gateway with its own ASN, the VPC attached, and its ids in SSM for the peers', () => {
    const asns = REGIONS.map((_, i) => {
      const template = mesh.template(i);
      template.resourceCountIs('AWS::EC2::TransitGatewayAttachment', 1);
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: meshParameterName(topology.name, REGIONS[i] as string),
      });
      const [gateway] = Object.values(template.findResources('AWS::EC2::TransitGateway'));
      return (gateway as { Properties: { AmazonSideAsn: number } }).Properties.AmazonSideAsn;
    });
    expect(new Set(asns).size).toBe(REGIONS.length);
  });

  it('peer every pair of the plan once, from the first region of the pair, with routes to the peer blocks', () => {
    const peerings = REGIONS.map((_, i) =>
      Object.values(mesh.template(i).findResources('AWS::EC2::TransitGatewayPeeringAttachment')).map(
        (p) => (p as { Properties: { PeerRegion: string } }).Properties.PeerRegion,
      ),
    );
    expect(peerings).toEqual([['eu-west-1', 'ap-south-1'], ['ap-south-1'], []]);
    expect(peerings.flat()).toHaveLength(plan.links.length);
    const us = mesh.template(0);
    for (const peer of ['eu-west-1', 'ap-south-1']) {
      const blocks = plan.regions.find((r) => r.region === peer)?.cidrs ?? [];
      for (const cidr of blocks) {
        us.hasResourceProperties('AWS::EC2::TransitGatewayRoute', { DestinationCidrBlock: cidr });
        us.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: cidr });
      }
      // The accepter's side: accepted and routed back to us-east-1's blocks in the peer region.
      us.hasResourceProperties('Custom::CortexMeshPeering', {
        PeerRegion: peer,
        PeerRoutes: plan.regions[0]?.cidrs,
      });
    }
    // The accepter's Transit Gateway is read in its own region, never referenced across regions.
    us.hasResourceProperties('Custom::AWS', {
      Update: Match.stringLikeRegexp(
        `"region":"eu-west-1".*${meshParameterName(topology.name, 'eu-west-1')}`,
      ),
    });
    expect(mesh.stacks[0]?.peers).toEqual(['eu-west-1', 'ap-south-1']);
  });

  it('leave no AwsSolutions finding unacknowledged', () => {
    const findings = reportedFindings(mesh.outdir, mesh.synthError).filter((f) =>
      f.path.includes('CortexNetwork-'),
    );
    expect(findings).toEqual([]);
  });
});

describe('the mesh stack props', () => {
  it('refuse MCP ports that are not TCP ports, naming them', () => {
    for (const mcpPorts of [[], [0], [70_000], [44.3]]) {
      const { app } = newApp();
      expect(
        () =>
          new NetworkMeshStack(app, 'CortexNetwork-us-east-1', {
            env: { account: '111111111111', region: 'us-east-1' },
            name: topology.name,
            regionId: 'us-east-1',
            plan,
            stateTableName: `${topology.name}-state`,
            stateTableActions: ['Query', 'PutItem'],
            mcpPorts,
          }),
      ).toThrow(`network mesh: mcpPorts must be TCP ports, got ${JSON.stringify(mcpPorts)}`);
    }
  });
});

describe('the network switch', () => {
  it('is off by default, builds one stack per region with -c network=mesh, each requester after its accepters', () => {
    expect(meshStacks(new App(), topology, {}, undefined)).toEqual([]);
    const built = meshStacks(new App({ context: { network: 'mesh' } }), topology, {}, undefined);
    expect(built.map((s) => s.stackName)).toEqual(REGIONS.map((r) => `CortexNetwork-${r}`));
    expect(built[0]?.dependencies.map((d) => d.stackName).sort()).toEqual([
      'CortexNetwork-ap-south-1',
      'CortexNetwork-eu-west-1',
    ]);
    expect(built[1]?.dependencies.map((d) => d.stackName)).toEqual(['CortexNetwork-ap-south-1']);
  });

  it('refuses a context value it does not know, naming it, and a plan with overlapping blocks naming both', () => {
    expect(() => meshStacks(new App({ context: { network: 'full' } }), topology, {}, undefined)).toThrow(
      /context network: must be mesh or none, got "full"/,
    );
    const raw = defaultTopologyJson();
    for (const tunnel of raw.cross_region_networking.vpn_mesh.tunnels) {
      for (const end of [tunnel.source, tunnel.destination]) {
        if (end.region === 'eu-west-1') end.allowed_ips = ['10.1.128.0/17'];
      }
    }
    const overlapping = { ...topology, cross_region_networking: raw.cross_region_networking };
    let refused: unknown;
    try {
      meshStacks(new App(), overlapping, { network: 'mesh' }, undefined);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TopologyError);
    expect((refused as TopologyError).message).toMatch(
      /10\.1\.128\.0\/17 of eu-west-1 overlaps 10\.1\.0\.0\/16 of us-east-1/,
    );
  });
});
