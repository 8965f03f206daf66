/** What every CLI command shares: option parsing, the API client, reading input, printing refusals. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ApiAnswer, ApiClient, DEFAULT_ENDPOINT, EndpointError, parseEndpoints } from './client.ts';

export type { ApiAnswer } from './client.ts';
export { ApiUnreachableError, DEFAULT_ENDPOINT, EndpointError } from './client.ts';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readStdin: () => string;
  readonly env: Record<string, string | undefined>;
  readonly color: boolean;
}

/** A mistake in how the command was called: printed with that command's usage, exit code 2. */
export class UsageError extends Error {}

/**
 * A file named on the command line cannot be read, or is not what the command takes (not JSON):
 * exit code 2 like every other command-line mistake, printed without the usage.
 */
export class FileArgumentError extends UsageError {}

export type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/** The options every command that calls the HTTP API takes. */
export const API_OPTIONS = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

export function parse<O extends Options>(args: readonly string[], options: O, positionals = 0) {
  const parsed = parseArgs({ args: [...args], options, allowPositionals: positionals > 0, strict: true });
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  }
  return parsed;
}

export function integerOption(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** The text of `source`: a file, or standard input for `-`. */
export function readInput(source: string, io: CliIo): string {
  try {
    return source === '-' ? io.readStdin() : readFileSync(source, 'utf8');
  } catch (error) {
    throw new FileArgumentError(`cannot read ${source === '-' ? 'standard input' : source}: ${why(error)}`);
  }
}

/** Fails like readInput when `path` (given to `option`, if any) is not a readable file. */
export function requireReadable(path: string, option?: string): void {
  try {
    readFileSync(path);
  } catch (error) {
    throw new FileArgumentError(`cannot read ${option ? `${option} ` : ''}${path}: ${why(error)}`);
  }
}

function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}

/**
 * The API client for `--endpoint` (a comma-separated list), else `$CORTEX_ENDPOINT`, else the local
 * gateway. `quiet` leaves out the line that says another endpoint answered (a live view shows it).
 */
export function apiClient(
  values: Record<string, unknown>,
  io: CliIo,
  options: { quiet?: boolean } = {},
): ApiClient {
  const flag = values.endpoint as string | undefined;
  const env = io.env.CORTEX_ENDPOINT;
  const [raw, origin] =
    flag !== undefined
      ? [flag, '--endpoint']
      : env !== undefined && env !== ''
        ? [env, 'CORTEX_ENDPOINT']
        : [DEFAULT_ENDPOINT, '--endpoint'];
  let endpoints: string[];
  try {
    endpoints = parseEndpoints(raw, origin);
  } catch (error) {
    if (error instanceof EndpointError) throw new UsageError(error.message);
    throw error;
  }
  // Signing (client.ts): the region for a host that names none (`api.<domain>`), as the SDK reads it.
  const signingRegion = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  return new ApiClient({
    endpoints,
    origin,
    ...(options.quiet ? {} : { note: (line: string) => io.err(line) }),
    ...(signingRegion ? { signingRegion } : {}),
  });
}

/**
 * A refusal as readable lines on standard error: status, code and message, each field problem, each
 * excluded region with its reasons (a route or failover nobody can take), and what a conflict names.
 */
export function printApiError(io: CliIo, answer: ApiAnswer): void {
  const body = answer.body as {
    error?: {
      code?: string;
      message?: string;
      details?: { field: string; reason: string }[];
      region?: string;
      status?: string;
    };
    excluded?: { region: string; reasons: string[] }[];
  } | null;
  if (!body?.error) {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    io.err(`HTTP ${answer.status}: ${text.length > 500 ? `${text.slice(0, 500)}...` : text}`);
    return;
  }
  io.err(`HTTP ${answer.status} ${body.error.code}: ${body.error.message}`);
  for (const d of body.error.details ?? []) io.err(`  ${d.field}: ${d.reason}`);
  const excluded = body.excluded ?? [];
  if (excluded.length > 0) {
    io.err('excluded:');
    for (const e of excluded) {
      if (e.reasons.length <= 1) io.err(`  ${e.region}: ${e.reasons[0] ?? 'no reason given'}`);
      else {
        io.err(`  ${e.region}:`);
        for (const reason of e.reasons) io.err(`    - ${reason}`);
      }
    }
  }
}
