/** What every CLI command shares: option parsing, the API call, error printing. */
import { parseArgs } from 'node:util';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4600';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readStdin: () => string;
  readonly env: Record<string, string | undefined>;
  readonly color: boolean;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

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

export class ApiUnreachableError extends Error {}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export async function callApi(
  endpoint: string,
  method: string,
  path: string,
  body?: string,
): Promise<ApiAnswer> {
  let url: URL;
  try {
    url = new URL(path, endpoint);
  } catch {
    throw new UsageError(`--endpoint "${endpoint}" is not a URL`);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new ApiUnreachableError(
      `cannot reach ${url.origin} (${(error as Error).cause ?? (error as Error).message}); is \`npm start\` running, or is --endpoint right?`,
    );
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page, say): show it as text.
  }
  return { status: response.status, body: parsed };
}

export function endpointOf(values: Record<string, unknown>, io: CliIo): string {
  return (values.endpoint as string | undefined) ?? io.env.CORTEX_ENDPOINT ?? DEFAULT_ENDPOINT;
}

export function printApiError(io: CliIo, answer: ApiAnswer): void {
  const body = answer.body as {
    error?: { code?: string; message?: string; details?: { field: string; reason: string }[] };
  };
  if (!body?.error) {
    io.err(
      `HTTP ${answer.status}: ${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`,
    );
    return;
  }
  io.err(`HTTP ${answer.status} ${body.error.code}: ${body.error.message}`);
  for (const d of body.error.details ?? []) io.err(`  ${d.field}: ${d.reason}`);
}
