/**
 * The local stand-in for a multi-Region strongly consistent (MRSC) table: one authoritative copy,
 * reached by every region of the table only while that region reaches a majority of the table's
 * regions (itself included).
 *
 * What it reproduces of MRSC: a write is visible to a strongly consistent read in every region as
 * soon as it returns (one copy: there is no replication lag to observe); a conditional write is
 * checked against the latest value in every region (two regions racing on one item: one wins, the
 * other's condition fails, instead of last writer wins); and a region cut off from the majority can
 * neither write nor strongly read (StateUnavailableError), while the majority goes on without it.
 * MRSC keeps three copies; here the copy lives in one regional store (the table's home region), and
 * a fault that takes that region down does not take its store with it, as the other two replicas
 * would keep the data on AWS.
 *
 * What it does not reproduce: eventually consistent reads in a cut-off region (DynamoDB may answer
 * them from the local replica; here every call is refused) and ReplicatedWriteConflictException
 * (one copy serializes concurrent writes instead).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateUnavailableError } from '../../core/errors.ts';

interface QuorumGuardOptions {
  /** The MRSC table's name: only requests naming it are guarded. */
  readonly tableName: string;
  /** Every region holding a replica of the table. */
  readonly regions: readonly string[];
  /** The region whose requests go through this client. */
  readonly caller: string;
  /** Whether `from` reaches `to` now (`from === to`: whether the region itself is up). */
  readonly reaches: (from: string, to: string) => boolean;
}

/** The regions of the table `caller` reaches now, itself first when it is up. */
export function reachableReplicas(options: Omit<QuorumGuardOptions, 'tableName'>): string[] {
  return options.regions.filter((region) => options.reaches(options.caller, region));
}

/** Whether `caller` reaches a majority of the table's regions. */
export function hasQuorum(options: Omit<QuorumGuardOptions, 'tableName'>): boolean {
  return reachableReplicas(options).length * 2 > options.regions.length;
}

/**
 * Refuses, before they are sent, the client's requests on the MRSC table while the caller does not
 * reach a majority of its regions. Requests on other tables pass untouched.
 */
export function guardQuorum(client: DynamoDBClient, options: QuorumGuardOptions): void {
  if (!options.regions.includes(options.caller)) {
    throw new Error(`guardQuorum: ${options.caller} holds no replica of ${options.tableName}`);
  }
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TableName?: unknown; RequestItems?: Record<string, unknown> };
      // A batch names its tables as the keys of RequestItems.
      const names = input.RequestItems ? Object.keys(input.RequestItems) : [input.TableName];
      if (names.includes(options.tableName) && !hasQuorum(options)) {
        const reached = reachableReplicas(options);
        const needed = Math.floor(options.regions.length / 2) + 1;
        throw new StateUnavailableError(
          options.tableName,
          options.caller,
          `reaches ${reached.length} of its ${options.regions.length} replicas (${
            reached.join(', ') || 'none'
          }); a strongly consistent read or write needs ${needed}`,
        );
      }
      return next(args);
    },
    { step: 'initialize', name: 'cortexMrscQuorumGuard' },
  );
}
