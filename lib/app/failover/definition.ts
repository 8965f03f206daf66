/**
 * The failover state machine definition (statemachines/failover.asl.json) and its substitutions.
 * CDK passes the text to `DefinitionBody.fromString` with `definitionSubstitutions` set to the same
 * map; the local runtime and the tests apply the map here. The file stays valid JSON and valid ASL
 * before substitution: numbers are substituted inside `States.StringToJson('...')` strings. The
 * execution's TimeoutSeconds must be a JSON number at the top level, where no such string can go:
 * failoverDefinitionText writes it into the text from the topology.
 *
 * The file is imported as JSON, not read: a use case does no I/O (.dependency-cruiser.mjs), and the
 * definition is this use case's own data, loaded with its code wherever it runs.
 */
import { fileURLToPath } from 'node:url';
import failoverAsl from '../../../statemachines/failover.asl.json' with { type: 'json' };
import type { Topology } from '../../core/topology/types.ts';
import { failoverTimings } from './timings.ts';
import { failoverWorkflowBounds } from './workflow-bounds.ts';

/** Where the definition's file is, for tooling and tests that read it as written. */
export const FAILOVER_DEFINITION_PATH = fileURLToPath(
  new URL('../../../statemachines/failover.asl.json', import.meta.url),
);

/** `${Name}` placeholders of the definition and their values for this topology. */
export function failoverSubstitutions(topology: Topology, functionArn: string): Record<string, string> {
  if (
    !/^arn:aws[a-z-]*:lambda:[a-z0-9-]*:\d*:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/.test(functionArn)
  ) {
    throw new Error(`failoverSubstitutions: "${functionArn}" is not a Lambda function ARN`);
  }
  const timings = failoverTimings(topology);
  const phase = timings.phase_timeout_seconds;
  const bounds = failoverWorkflowBounds(topology);
  return {
    FailoverFunctionArn: functionArn,
    DetectionTimeoutSeconds: String(phase.detection),
    ApprovalTimeoutSeconds: String(timings.approval_timeout_seconds),
    OperatorTimeoutSeconds: String(timings.operator_timeout_seconds),
    PreparationTimeoutSeconds: String(phase.preparation),
    ExecutionTimeoutSeconds: String(phase.execution),
    ValidationTimeoutSeconds: String(phase.validation),
    ClosingTimeoutSeconds: String(timings.closing_timeout_seconds),
    DrainPollLimit: String(bounds.drain_polls),
    SyncPollLimit: String(bounds.sync_polls),
    PromotionPollLimit: String(bounds.promotion_polls),
    OperatorRoundLimit: String(bounds.operator_rounds),
  };
}

/** Replaces every `${Name}` as Step Functions' DefinitionSubstitutions does; an unknown name throws. */
export function applySubstitutions(text: string, substitutions: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`failover definition: no substitution for \${${name}}`);
    return value;
  });
}

/** The definition as deployed, before substitution: the file with the topology's execution TimeoutSeconds. */
export function failoverDefinitionText(topology: Topology): string {
  const definition: Readonly<Record<string, unknown>> = failoverAsl;
  const { Comment, QueryLanguage } = definition;
  const TimeoutSeconds = failoverWorkflowBounds(topology).execution_timeout_seconds;
  return `${JSON.stringify({ Comment, QueryLanguage, TimeoutSeconds, ...definition }, null, 2)}\n`;
}

/** The definition text with the substitutions applied, for the local runtime and tests. */
export function loadFailoverDefinition(topology: Topology, functionArn: string): string {
  return applySubstitutions(failoverDefinitionText(topology), failoverSubstitutions(topology, functionArn));
}
