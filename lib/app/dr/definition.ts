/**
 * The DR runbooks' state machine definitions (statemachines/regional-dr.asl.json and
 * network-partition.asl.json), imported as JSON like the failover's (a use case does no I/O), with
 * their one substitution: the DR function's ARN. CDK passes the same text and map.
 */
import partitionAsl from '../../../statemachines/network-partition.asl.json' with { type: 'json' };
import regionalAsl from '../../../statemachines/regional-dr.asl.json' with { type: 'json' };
import { applySubstitutions } from '../failover/definition.ts';
import type { Runbook } from './actions.ts';

/** Both runbooks, in the order the stacks deploy them. */
export const RUNBOOKS: readonly Runbook[] = ['regional_failure', 'network_partition'];

/** The state machine names (`<deployment>-<name>` on AWS). */
export const RUNBOOK_MACHINE_NAMES: Readonly<Record<Runbook, string>> = {
  regional_failure: 'regional-dr',
  network_partition: 'network-partition',
};

/**
 * The SSM parameter (in each region) holding that region's runbook state machine ARN, beside the API
 * URL's `/<deployment>/api-url/<region>`: `cortex dr run` reads it there.
 */
export function runbookArnParameter(deployment: string, runbook: Runbook): string {
  return `/${deployment}/runbooks/${runbook}`;
}

/** The definition as written (before substitution). */
export function runbookDefinitionText(runbook: Runbook): string {
  const definition = runbook === 'regional_failure' ? regionalAsl : partitionAsl;
  return `${JSON.stringify(definition, null, 2)}\n`;
}

function runbookSubstitutions(functionArn: string): Record<string, string> {
  if (
    !/^arn:aws[a-z-]*:lambda:[a-z0-9-]*:\d*:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/.test(functionArn)
  ) {
    throw new Error(`runbookSubstitutions: "${functionArn}" is not a Lambda function ARN`);
  }
  return { DrFunctionArn: functionArn };
}

/** The definition text with the DR function's ARN in place, for the local runtime and tests. */
export function loadRunbookDefinition(runbook: Runbook, functionArn: string): string {
  return applySubstitutions(runbookDefinitionText(runbook), runbookSubstitutions(functionArn));
}
