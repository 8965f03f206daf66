import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { runMcpProbeMinuteRound } from '../../lib/app/mcp/minute-round.ts';
import { type McpProbeReport, probeMcpServers } from '../../lib/app/mcp/probe.ts';
import {
  type MinuteOutput,
  minuteInputSchema,
  minuteOptions,
  minuteOutcome,
  parseJobInput,
  type RoundMessageEvent,
} from '../shared/minute-input.ts';

/**
 * The invocation's input. The region's minute driver passes `minute` (one round, then the next
 * step); an operator's invocation without it probes once, now (`force` defaults to true then: an
 * operator asks to see the servers, not whether a round is due). Other fields are ignored.
 */
const inputSchema = z.looseObject({
  minute: z.optional(minuteInputSchema),
  force: z.optional(z.boolean()),
});

export type McpProbeInput = z.infer<typeof inputSchema> | RoundMessageEvent | null | undefined;

/** One round as the invocation reports and logs it: the verdicts that turned and what was left out. */
interface McpRoundSummary {
  readonly observer?: string;
  readonly at?: string;
  readonly error?: string;
  /** False when this observer's last probe is younger than its interval (nothing written). */
  readonly probed?: boolean;
  readonly servers?: number;
  readonly unhealthy?: readonly string[];
  readonly turned?: McpProbeReport['turned'];
  readonly unprobed?: McpProbeReport['unprobed'];
}

export interface McpProbeInvocationReport {
  readonly rounds: readonly McpRoundSummary[];
  readonly stopped_early?: string;
  /** With the driver's input: where the minute stands and when its next round starts. */
  readonly minute?: MinuteOutput;
}

function summary(round: McpProbeReport | { readonly error: string }): McpRoundSummary {
  if ('error' in round) return { error: round.error };
  return {
    observer: round.observer,
    at: round.at,
    probed: round.probed,
    servers: round.views.length,
    unhealthy: round.views.filter((v) => !v.healthy).map((v) => `${v.region}/${v.server}`),
    turned: round.turned,
    unprobed: round.unprobed,
  };
}

/**
 * The MCP health job of a region (docs/mcp.md): the registry's servers probed from inside the
 * region's network mesh VPC, with the same use case, hysteresis and probe records as the local
 * plane's probe rounds (lib/app/mcp/probe.ts), one round per invocation from the minute driver.
 */
export function createMcpProbeHandler(
  deps: FunctionDeps<'mcp-probe'>,
  options: { readonly log?: (line: string) => void } = {},
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<McpProbeInput, McpProbeInvocationReport, Error, Context>().handler(async (event) => {
    const input = parseJobInput(inputSchema, event, 'MCP probe input');
    let report: McpProbeInvocationReport;
    if (input.minute) {
      const minute = await runMcpProbeMinuteRound(deps, minuteOptions(input.minute));
      report = { rounds: minute.rounds.map(summary), ...minuteOutcome(minute) };
    } else {
      report = { rounds: [summary(await probeMcpServers(deps, { force: input.force ?? true }))] };
    }
    log(JSON.stringify({ level: 'info', message: 'MCP probe', ...report }));
    return report;
  });
}
