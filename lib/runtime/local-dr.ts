/**
 * The DR runbooks as the local composition roots run them: the runbook's definition with the local
 * DR function's ARN, run by the local runbook adapter with `runDrAction` on the coordinator's deps.
 * The simulator's tests hand in their virtual clock's sleep; the local plane its simulated one.
 */
import { type RunbookOutcome, runRunbook } from '../adapters/local/runbook-workflow.ts';
import type { ControlDeps } from '../app/deps.ts';
import type { Runbook } from '../app/dr/actions.ts';
import { type DrRun, type DrTaskEvent, runDrAction } from '../app/dr/actions.ts';
import { loadRunbookDefinition } from '../app/dr/definition.ts';

/** What stands in for `${DrFunctionArn}` locally. */
export const LOCAL_DR_FUNCTION_ARN = 'arn:aws:lambda:local:000000000000:function:cortex-dr';

interface LocalRunbooksOptions {
  /** The ControlDeps of a region (the coordinator's runs the runbook). */
  readonly depsFor: (regionId: string) => ControlDeps;
  /** Sleeps `ms` of the runtime's clock (the Wait states of the definitions). */
  readonly sleep: (ms: number) => Promise<void>;
}

type RunbookStarter = (runbook: Runbook, coordinator: string, run: DrRun) => Promise<RunbookOutcome>;

export function createLocalRunbooks(options: LocalRunbooksOptions): RunbookStarter {
  const definitions = {
    regional_failure: loadRunbookDefinition('regional_failure', LOCAL_DR_FUNCTION_ARN),
    network_partition: loadRunbookDefinition('network_partition', LOCAL_DR_FUNCTION_ARN),
  };
  return (runbook, coordinator, run) => {
    const deps = options.depsFor(coordinator);
    return runRunbook({
      definition: definitions[runbook],
      functionArn: LOCAL_DR_FUNCTION_ARN,
      invoke: (event) => runDrAction(deps, event as DrTaskEvent),
      sleep: options.sleep,
      name: run.dr_id,
      input: { run },
    });
  };
}
