/**
 * `cortex data put <key> <file|->`, `cortex data get <key>`, `cortex data delete <key>`: selectively
 * replicated data through `PUT|GET|DELETE /v1/data/{key}` of the region behind --endpoint (each key in
 * its policy's table for that region). `--json` prints the API's answer as is.
 */
import { MAX_DATA_LIST_LIMIT } from '../app/requests/data.ts';
import {
  type ApiAnswer,
  apiClient,
  type CliIo,
  FileArgumentError,
  integerOption,
  parse,
  printApiError,
  readInput,
  UsageError,
} from './common.ts';
import { paint, type Style, table } from './format.ts';

interface DataRecord {
  key: string;
  policy_id: string;
  table: string;
  region: string;
  replicas: string[];
  value: Record<string, unknown>;
  written_at: string;
  expires_at?: number;
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The key as a URL path: each `/`-separated segment percent-encoded. */
function pathOf(key: string): string {
  return `/v1/data/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function printRecord(io: CliIo, record: DataRecord): void {
  const style: Style = { color: io.color };
  const expires =
    record.expires_at === undefined ? 'never' : new Date(record.expires_at * 1000).toISOString();
  io.out(
    table(
      ['KEY', 'POLICY', 'TABLE', 'WRITTEN IN', 'REPLICAS', 'WRITTEN AT', 'EXPIRES'],
      [
        [
          record.key,
          record.policy_id,
          record.table,
          record.region,
          record.replicas.join(' '),
          record.written_at,
          expires,
        ],
      ],
    ),
  );
  io.out(paint(style, 'dim', JSON.stringify(record.value, null, 2)));
}

export async function dataCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'put': {
      const { values, positionals } = parse(rest, common, 2);
      const [key, source] = positionals;
      if (key === undefined || source === undefined) {
        throw new UsageError(
          'data put needs a key and a file with a JSON object, or - to read it from standard input',
        );
      }
      let value: unknown;
      try {
        value = JSON.parse(readInput(source, io));
      } catch (error) {
        if (error instanceof FileArgumentError) throw error;
        throw new FileArgumentError(`cannot read a JSON value from ${source}: ${(error as Error).message}`);
      }
      const answer = await apiClient(values, io).call('PUT', pathOf(key), JSON.stringify({ value }));
      return finish(io, answer, values.json === true, (body) => printRecord(io, body as DataRecord));
    }
    case 'list': {
      const { values, positionals } = parse(
        rest,
        { ...common, after: { type: 'string' }, limit: { type: 'string' } },
        1,
      );
      const limit = integerOption('limit', values.limit as string | undefined, 1, MAX_DATA_LIST_LIMIT);
      const query = new URLSearchParams({
        prefix: positionals[0] ?? '',
        ...(values.after === undefined ? {} : { after: values.after as string }),
        ...(limit === undefined ? {} : { limit: String(limit) }),
      });
      const answer = await apiClient(values, io).call('GET', `/v1/data?${query}`);
      return finish(io, answer, values.json === true, (body) => printListing(io, body as Listing));
    }
    case 'get':
    case 'delete': {
      const { values, positionals } = parse(rest, common, 1);
      const [key] = positionals;
      if (key === undefined) throw new UsageError(`data ${action} needs a key`);
      const answer = await apiClient(values, io).call(action === 'get' ? 'GET' : 'DELETE', pathOf(key));
      return finish(io, answer, values.json === true, (body) => {
        if (action === 'get') return printRecord(io, body as DataRecord);
        const { deleted } = body as { deleted: boolean };
        io.out(deleted ? `deleted ${key}` : `${key} was not there: nothing deleted`);
      });
    }
    default:
      throw new UsageError(
        action === undefined ? 'data needs put, get, list or delete' : `unknown data command "${action}"`,
      );
  }
}

interface Listing {
  region: string;
  prefix: string;
  records: Omit<DataRecord, 'value' | 'replicas'>[];
  next_after?: string;
}

function printListing(io: CliIo, listing: Listing): void {
  const style: Style = { color: io.color };
  io.out(
    table(
      ['KEY', 'POLICY', 'TABLE', 'WRITTEN IN', 'WRITTEN AT', 'EXPIRES'],
      listing.records.map((r) => [
        r.key,
        r.policy_id,
        r.table,
        r.region,
        r.written_at,
        r.expires_at === undefined ? 'never' : new Date(r.expires_at * 1000).toISOString(),
      ]),
    ),
  );
  const more = listing.next_after === undefined ? '' : `; more: --after '${listing.next_after}'`;
  io.out(
    paint(
      style,
      'dim',
      `${listing.records.length} key(s) under "${listing.prefix}" in ${listing.region}${more}`,
    ),
  );
}

function finish(io: CliIo, answer: ApiAnswer, json: boolean, print: (body: unknown) => void): number {
  if (json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!json) printApiError(io, answer);
    return 1;
  }
  if (!json) print(answer.body);
  return 0;
}
