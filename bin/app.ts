/**
 * CDK entry (`cdk.json`: `node bin/app.ts`): loads the topology, adds the Cortex stacks (one per
 * region, the state stack, one per witness, and `CortexDns` when a new zone is needed) and runs the
 * AWS Solutions checks (cdk-nag) on all of them. Offline: no lookups, no credentials.
 *
 *   cdk synth -c topology=path/to/topology.json       another topology
 *   cdk synth -c domain=cortex.example.com            creates the zone (CortexDns), regional DNS later
 *   cdk synth -c domain=... -c hostedZoneId=Z...      imports the zone: certificates, health checks, records
 *   cdk deploy --all -c schedules=disabled            first deploy: no job runs before the tables exist
 *   cdk deploy --all -c generation=g2                 redeploy next to what a destroyed deployment retained
 *
 * docs/deploy.md has the whole sequence (bootstrap, order, check, teardown); `cortex deploy-plan`
 * prints it for a topology.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TopologyError } from '../lib/core/errors.ts';
import { buildApp } from '../lib/infra/app.ts';
import { DEPLOY_CONTEXT, scheduleState } from '../lib/infra/deploy-options.ts';
import { DNS_CONTEXT } from '../lib/infra/dns-plan.ts';
import { DEFAULT_TOPOLOGY_PATH, loadTopologyFile } from '../lib/topology/load.ts';

const app = new App();
const contextPath: unknown = app.node.tryGetContext('topology');
const topologyPath =
  typeof contextPath === 'string' && contextPath !== '' ? contextPath : DEFAULT_TOPOLOGY_PATH;

/** A context value as given (`-c key=value`), or undefined when absent or empty. */
function contextString(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

try {
  const domain = contextString(DNS_CONTEXT.domain);
  const hostedZoneId = contextString(DNS_CONTEXT.hostedZoneId);
  const generation = contextString(DEPLOY_CONTEXT.generation);
  const { notices } = buildApp(app, loadTopologyFile(topologyPath), {
    dns: { ...(domain ? { domain } : {}), ...(hostedZoneId ? { hostedZoneId } : {}) },
    schedules: scheduleState(contextString(DEPLOY_CONTEXT.schedules)),
    ...(generation ? { generation } : {}),
  });
  for (const notice of notices) console.warn(`cortex: ${notice}`);
} catch (error) {
  if (!(error instanceof TopologyError)) throw error;
  console.error(`Cannot deploy topology ${topologyPath}:`);
  for (const issue of error.details) console.error(`  ${issue.field}: ${issue.reason}`);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
