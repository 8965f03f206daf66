/**
 * `cortex deploy-plan`: what deploying a topology to AWS takes, from the topology itself: the regions
 * to bootstrap (the witnesses' included), the stacks in the order the app's dependencies enforce, and
 * the commands of docs/deploy.md with those regions filled in. Reads no credentials, calls nothing.
 */
import { TopologyError } from '../core/errors.ts';
import { placeReplication } from '../core/replication/placement.ts';
import { bootstrapRegions, deployWaves, plannedStacks } from '../infra/deploy-order.ts';
import { planDeployment } from '../infra/deployment-plan.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { type CliIo, parse, requireReadable, UsageError } from './common.ts';

export function deployPlanCommand(args: readonly string[], io: CliIo): number {
  const { values } = parse(args, {
    topology: { type: 'string' },
    account: { type: 'string' },
    json: { type: 'boolean' },
  });
  const file = values.topology as string | undefined;
  if (file !== undefined) requireReadable(file, '--topology');
  const account = (values.account as string | undefined) ?? '<account>';
  if (values.account !== undefined && !/^\d{12}$/.test(account)) {
    throw new UsageError(`--account must be a 12-digit AWS account id, got "${values.account}"`);
  }
  const topology = loadTopologyFile(file);
  const plan = planDeployment(topology);
  const placement = placeReplication(topology, { homeRegion: plan.stateRegionId });
  if (placement.errors.length > 0) throw new TopologyError(placement.errors);
  const stacks = plannedStacks(plan, placement);
  const waves = deployWaves(stacks);
  const regions = bootstrapRegions(plan);
  const context = file === undefined ? '' : ` -c topology=${file}`;
  const commands = {
    bootstrap: `npx cdk bootstrap${context} ${regions.map((r) => `aws://${account}/${r}`).join(' ')}`,
    first_deploy: `npx cdk deploy --all${context} -c schedules=disabled`,
    enable_schedules: `npx cdk deploy --all${context}`,
    check: `npx cortex doctor --ssm${file === undefined ? '' : ` --topology ${file}`}`,
  };
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          topology: topology.name,
          regions: plan.regionIds,
          witness_regions: plan.witnesses.map((w) => w.regionId),
          bootstrap_regions: regions,
          stacks,
          waves,
          commands,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(
    `topology ${topology.name}: regions ${plan.regionIds.join(', ')}; state table home ${plan.stateRegionId}`,
  );
  if (plan.witnesses.length > 0)
    io.out(`witnesses: ${plan.witnesses.map((w) => `${w.witnessId} in ${w.regionId}`).join(', ')}`);
  io.out('');
  io.out(`1. bootstrap every region, the witnesses' included (${regions.length}):`);
  io.out(`   ${commands.bootstrap}`);
  io.out('2. deploy with the schedules disabled; the stacks go in this order (their dependencies):');
  for (const [i, wave] of waves.entries()) {
    const why = stacks.find((s) => s.id === wave[0])?.dependsOn[0]?.reason;
    io.out(`   ${String.fromCharCode(97 + i)}. ${wave.join(', ')}`);
    if (why) io.out(`      after ${String.fromCharCode(96 + i)}: ${why}`);
  }
  io.out(`   ${commands.first_deploy}`);
  io.out('3. deploy again: the schedules start now that the tables exist');
  io.out(`   ${commands.enable_schedules}`);
  io.out('4. check every region');
  io.out(`   ${commands.check}`);
  io.out('');
  io.out(
    'docs/deploy.md: prerequisites, concurrency on new accounts, teardown and redeploy (-c generation=<g>)',
  );
  return 0;
}
