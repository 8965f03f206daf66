/**
 * The MCP health job on AWS (`-c network=mesh`, lib/infra/regional-stack.ts meshJobTable and
 * lib/infra/network-mesh.ts) on `topology/default.json`. Invariants: without the mesh there is no
 * such job and no function in any VPC; with it each region's job runs in its own mesh VPC's two
 * isolated subnets (read from the mesh stack's SSM parameters, no cross-stack reference, deployed
 * after it), its security group reaches only the mesh's blocks on the MCP ports and DynamoDB's
 * prefix list over HTTPS, the state table is reached through a gateway endpoint that lets through
 * that table's job actions only; its role holds exactly the table actions the probe use case needs
 * and no bus, workflow or API; its rounds come from the minute driver at the region's MCP interval
 * (queued, or one after the other from the Express driver where a round may outlast it); the cost
 * model prices it with the mesh only;
 * cdk-nag finds nothing unacknowledged.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateMonthlyCost } from '../../lib/core/cost/model.ts';
import { PRICE_BOOK } from '../../lib/core/cost/price-book.ts';
import { mcpProbeIntervalMs } from '../../lib/core/mcp/health.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { costInventory, costWorkload } from '../../lib/infra/cost-inventory.ts';
import { mcpProbeParameterNames } from '../../lib/infra/network-mesh.ts';
import { JOB_TABLE_ACCESS, type RegionalStack } from '../../lib/infra/regional-stack.ts';
import { defaultTopologyJson, withFastPolicy } from '../fixtures/topologies.ts';
import { type BuiltApp, buildCortexApp, logicalId, templateOf } from './build.ts';
import { actionsAllowed, actionsOn, arnIn, resourcesAllowed, roleStatements } from './iam.ts';
import { awsSolutionsFindings } from './nag.ts';

type Resource = { Properties: Record<string, unknown>; DependsOn?: string[] };

let mesh: BuiltApp;
let plain: BuiltApp;

beforeAll(() => {
  plain = buildCortexApp();
  mesh = buildCortexApp({ network: 'mesh' });
});

const networkOf = (app: BuiltApp, region: string) => {
  const stack = app.networkStacks.find((s) => s.region === region);
  if (!stack) throw new Error(`no mesh stack in ${region}`);
  return stack;
};

function functionOf(stack: RegionalStack, template: Template): Resource {
  const job = stack.mcpProbe;
  if (!job) throw new Error(`no MCP health job in ${stack.regionId}`);
  return template.findResources('AWS::Lambda::Function')[
    logicalId(job.function.node.defaultChild)
  ] as Resource;
}

/** The SSM parameter names behind a template's `{ Ref: <CfnParameter> }`. */
function parameterNames(template: Template, refs: unknown): string[] {
  const parameters = template.toJSON().Parameters as Record<string, { Default?: string; Type: string }>;
  return (refs as { Ref: string }[]).map((ref) => {
    const parameter = parameters[ref.Ref];
    expect(parameter?.Type).toBe('AWS::SSM::Parameter::Value<String>');
    return parameter?.Default as string;
  });
}

describe('the MCP health job', () => {
  it('does not exist without the mesh: no job, no function in a VPC', () => {
    for (const stack of plain.regionalStacks) {
      expect(stack.mcpProbe).toBeUndefined();
      const functions = Object.values(templateOf(stack).findResources('AWS::Lambda::Function')) as Resource[];
      expect(functions.filter((f) => f.Properties.VpcConfig !== undefined)).toEqual([]);
      expect(functions.some((f) => String(f.Properties.Description).startsWith('Cortex mcp-probe'))).toBe(
        false,
      );
    }
    expect(plain.networkStacks).toEqual([]);
  });

  it("runs in its own region's mesh subnets with the mesh's security group, read from SSM after the mesh deploys", () => {
    for (const stack of mesh.regionalStacks) {
      const template = templateOf(stack);
      const fn = functionOf(stack, template);
      const vpc = fn.Properties.VpcConfig as { SubnetIds: unknown; SecurityGroupIds: unknown };
      const names = mcpProbeParameterNames(mesh.topology.name, stack.regionId);
      expect(parameterNames(template, vpc.SubnetIds)).toEqual([...names.subnets]);
      expect(parameterNames(template, vpc.SecurityGroupIds)).toEqual([names.securityGroup]);
      // Published by the mesh stack of the same region, which deploys first.
      const network = networkOf(mesh, stack.regionId);
      const published = Object.values(templateOf(network).findResources('AWS::SSM::Parameter')).map(
        (p) => (p as Resource).Properties.Name,
      );
      expect(published).toEqual(expect.arrayContaining([...names.subnets, names.securityGroup]));
      expect(stack.dependencies).toContain(network);
      // The only function of the regional stack inside a VPC.
      const inVpc = (Object.values(template.findResources('AWS::Lambda::Function')) as Resource[]).filter(
        (f) => f.Properties.VpcConfig !== undefined,
      );
      expect(inVpc).toEqual([fn]);
    }
  });

  it('may reach only the mesh blocks on the MCP ports and DynamoDB over HTTPS, and takes no ingress', () => {
    const blocks = planMesh(mesh.topology).regions.flatMap((r) => r.cidrs);
    for (const network of mesh.networkStacks) {
      const template = templateOf(network);
      const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup')) as Resource[];
      expect(groups).toHaveLength(1);
      const group = groups[0] as Resource;
      expect(group.Properties.SecurityGroupIngress ?? []).toEqual([]);
      const egress = group.Properties.SecurityGroupEgress as Record<string, unknown>[];
      const toBlocks = egress.filter((e) => e.CidrIp !== undefined);
      expect(toBlocks.map((e) => e.CidrIp).sort()).toEqual([...blocks].sort());
      for (const rule of toBlocks)
        expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
      const toDynamo = egress.filter((e) => e.CidrIp === undefined);
      expect(toDynamo).toHaveLength(1);
      expect(toDynamo[0]).toMatchObject({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        DestinationPrefixListId: {
          'Fn::GetAtt': [expect.stringMatching(/^DynamoDbPrefixList/), 'PrefixLists.0.PrefixListId'],
        },
      });
      expect(egress.some((e) => e.CidrIp === '0.0.0.0/0')).toBe(false);
      // The prefix list is read in the stack's own region, by its name.
      template.hasResourceProperties('Custom::AWS', {
        Create: Match.stringLikeRegexp(`describePrefixLists.*com\\.amazonaws\\.${network.region}\\.dynamodb`),
      });
    }
  });

  it("reaches the state table through a gateway endpoint on the subnets' routes that lets through its actions only", () => {
    for (const network of mesh.networkStacks) {
      const template = templateOf(network);
      const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as Resource[];
      expect(endpoints).toHaveLength(1);
      const endpoint = (endpoints[0] as Resource).Properties;
      expect(endpoint).toMatchObject({
        VpcEndpointType: 'Gateway',
        ServiceName: `com.amazonaws.${network.region}.dynamodb`,
        RouteTableIds: [{ Ref: expect.stringMatching(/^SubnetRoutes/) }],
      });
      const table = `table/${mesh.topology.name}-state`;
      expect((endpoint.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: '*',
          Action: JOB_TABLE_ACCESS.mcpProbe.map((a) => `dynamodb:${a}`),
          Resource: [
            arnIn('dynamodb', network.region, table),
            arnIn('dynamodb', network.region, `${table}/index/*`),
          ],
        },
      ]);
      // No NAT, no internet gateway: the endpoint and the Transit Gateway are the only ways out.
      expect(template.findResources('AWS::EC2::NatGateway')).toEqual({});
      expect(template.findResources('AWS::EC2::InternetGateway')).toEqual({});
    }
  });

  it('holds the table actions the probe use case needs, network interface management, and nothing else', () => {
    for (const stack of mesh.regionalStacks) {
      const template = templateOf(stack);
      const job = stack.mcpProbe;
      if (!job) throw new Error('no job');
      const statements = roleStatements(template, job.role);
      const table = arnIn('dynamodb', stack.regionId, `table/${mesh.topology.name}-state`);
      expect(actionsOn(statements, table)).toEqual(
        JOB_TABLE_ACCESS.mcpProbe.map((a) => `dynamodb:${a}`).sort(),
      );
      const allowed = actionsAllowed(statements);
      expect([...allowed].sort()).toEqual([
        'dynamodb:PutItem',
        'dynamodb:Query',
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
        // The table key, through DynamoDB only (kms:ViaService).
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        // Its rounds' queue, which Lambda polls with the function's role.
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
      for (const never of [
        'events:PutEvents',
        'states:StartExecution',
        'execute-api:Invoke',
        'ssm:GetParameter',
      ]) {
        expect(allowed.has(never)).toBe(false);
      }
      // Interfaces are created only in the mesh subnets, with the mesh security group.
      const creatable = resourcesAllowed(statements, 'ec2:CreateNetworkInterface').map((r) =>
        JSON.stringify(r),
      );
      expect(creatable).toHaveLength(4);
      expect(creatable.filter((r) => r.includes(':subnet/'))).toHaveLength(2);
      expect(creatable.filter((r) => r.includes(':security-group/'))).toHaveLength(1);
      expect(JSON.stringify(functionOf(stack, template).Properties.Environment)).not.toContain(
        'CORTEX_EVENT_BUS',
      );
    }
  });

  it("is driven by the minute driver at the region's MCP interval, ten seconds into the minute", () => {
    for (const stack of mesh.regionalStacks) {
      const entries = stack.minuteDriver.entries.McpProbe;
      const interval = mcpProbeIntervalMs(mesh.topology, stack.regionId) / 1000;
      expect(interval).toBe(30);
      expect(entries?.map((e) => e.DelaySeconds)).toEqual([10, 40]);
      for (const entry of entries ?? []) expect(JSON.parse(entry.MessageBody)).toHaveProperty('minute');
      const template = templateOf(stack);
      const queue = stack.minuteDriver.queues.McpProbe;
      if (!queue) throw new Error('no queue');
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queue.node.defaultChild), 'Arn'] },
        FunctionName: { Ref: logicalId(stack.mcpProbe?.function.node.defaultChild) },
        BatchSize: 1,
      });
      // A round ends before the next is delivered: the queue's visibility is the function's timeout.
      const timeout = functionOf(stack, template).Properties.Timeout as number;
      expect(timeout).toBeLessThan(interval);
      expect(functionOf(stack, template).Properties).toMatchObject({
        MemorySize: 128,
        TracingConfig: { Mode: 'PassThrough' },
      });
    }
    // Without the mesh the driver has no such job.
    for (const stack of plain.regionalStacks) expect(stack.minuteDriver.entries.McpProbe).toBeUndefined();
  });

  it('under the fast policy, runs from the Express driver where its round may outlast its 10 s interval', () => {
    const fast = buildCortexApp({
      network: 'mesh',
      topology: validateTopology(withFastPolicy(defaultTopologyJson())),
    });
    const driverOf = (region: string) => {
      const stack = fast.regionalStacks.find((s) => s.regionId === region);
      if (!stack) throw new Error(`no ${region}`);
      return stack.minuteDriver;
    };
    // eu-west-1 sets no MCP interval: the health check's 10 s, under the job's 13 s round.
    expect(driverOf('eu-west-1').entries.McpProbe).toBeUndefined();
    expect(JSON.stringify(driverOf('eu-west-1').express?.definition)).toContain('McpProbeRound');
    // us-east-1 and ap-south-1 probe their MCP servers every 30 s: queued rounds, as shipped.
    for (const region of ['us-east-1', 'ap-south-1']) {
      expect(driverOf(region).entries.McpProbe?.map((e) => e.DelaySeconds)).toEqual([10, 40]);
    }
  });

  it('leaves no AwsSolutions finding unacknowledged in the regional and mesh stacks', () => {
    expect(awsSolutionsFindings(mesh.app, mesh.outdir)).toEqual([]);
  });
});

describe('the cost model', () => {
  it('prices the MCP health job with the mesh (a function per region, two rounds a minute) and nothing of it without', () => {
    const priced = (app: BuiltApp) => {
      const inventory = costInventory(app, (stack) => templateOf(stack).toJSON());
      const workload = costWorkload(app.topology, { requestsPerMonth: 100_000 });
      return { inventory, report: estimateMonthlyCost(inventory, workload, PRICE_BOOK) };
    };
    const withMesh = priced(mesh);
    const without = priced(plain);
    const jobs = withMesh.inventory.functions.filter((f) => f.name === 'mcp-probe');
    expect(jobs.map((f) => f.region).sort()).toEqual(mesh.regionalStacks.map((s) => s.regionId).sort());
    expect(without.inventory.functions.some((f) => f.name === 'mcp-probe')).toBe(false);
    // Each region's driver puts the minute's two rounds on the job's queue.
    const schedules = withMesh.inventory.schedules.filter((s) =>
      withMesh.inventory.queueMappings.some(
        (m) =>
          m.stack === s.stack &&
          m.queue === s.targetQueue &&
          jobs.some((f) => f.stack === m.stack && f.logicalId === m.targetFunction),
      ),
    );
    expect(schedules.map((s) => s.messages)).toEqual([2, 2, 2]);
    const line = withMesh.report.lines.find((l) => l.item === 'GB-seconds: mcp-probe');
    expect(line?.basis).toMatch(/^3 x 128 MB arm64, 87,600 runs each at 400 ms$/);
    expect(withMesh.report.lines.some((l) => l.item === 'replicated writes: mcp-probe')).toBe(true);
    expect(without.report.lines.some((l) => l.item.endsWith('mcp-probe'))).toBe(false);
    expect(withMesh.report.total_usd).toBeGreaterThan(without.report.total_usd);
  });
});
