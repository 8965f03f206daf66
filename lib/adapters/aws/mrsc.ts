/**
 * DynamoDB's answer when two regions write one item of an MRSC table at once is
 * ReplicatedWriteConflictException; the SDK retries it (the error is marked retryable). What is left
 * after the retries becomes StateUnavailableError (503 on the API, TransientError in the failover
 * workflow) instead of an unknown error (500).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateUnavailableError } from '../../core/errors.ts';

export function reportReplicatedWriteConflicts(client: DynamoDBClient, regionId: string): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if ((error as { name?: unknown } | undefined)?.name !== 'ReplicatedWriteConflictException')
          throw error;
        const table = (args.input as { TableName?: unknown }).TableName;
        throw new StateUnavailableError(
          typeof table === 'string' ? table : 'the MRSC table',
          regionId,
          'another region kept writing the same item (ReplicatedWriteConflictException after retries); try again',
          { cause: error },
        );
      }
    },
    { step: 'initialize', name: 'cortexReplicatedWriteConflicts' },
  );
}
