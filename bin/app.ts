/**
 * CDK entry (`cdk.json`: `node bin/app.ts`): loads the topology, adds one regional stack per region
 * and the state stack, and runs the AWS Solutions checks (cdk-nag) on all of them.
 * `cdk synth -c topology=path/to/topology.json` deploys another topology.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TopologyError } from '../lib/core/errors.ts';
import { buildApp } from '../lib/infra/app.ts';
import { DEFAULT_TOPOLOGY_PATH, loadTopologyFile } from '../lib/topology/load.ts';

const app = new App();
const contextPath: unknown = app.node.tryGetContext('topology');
const topologyPath =
  typeof contextPath === 'string' && contextPath !== '' ? contextPath : DEFAULT_TOPOLOGY_PATH;

try {
  buildApp(app, loadTopologyFile(topologyPath));
} catch (error) {
  if (!(error instanceof TopologyError)) throw error;
  console.error(`Cannot deploy topology ${topologyPath}:`);
  for (const issue of error.details) console.error(`  ${issue.field}: ${issue.reason}`);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
