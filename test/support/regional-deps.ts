/** A region's dependencies over a dynalite state table, as the handler tests build them. */
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { Clock, RegionStatuses } from '../../lib/ports.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import type { TestTable } from './dynalite.ts';

/** us-east-1 of the default topology as shipped, its state in `table`, on `clock`. */
export function regionalDepsOn(table: TestTable, clock: Clock): RegionalDeps {
  return {
    regionId: 'us-east-1',
    topology: loadTopologyFile(),
    state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
    clock,
  };
}

/** Moves `region` to `status` as an active region at the next epoch, as a status write the test made. */
export async function setRegionStatus(
  state: RegionStatuses,
  region: string,
  status: RegionStatus,
  updatedAt = '2026-11-26T12:00:00Z',
): Promise<void> {
  const current = await state.getRegionStatus(region);
  await state.putRegionStatus(
    {
      region_id: region,
      status,
      role: 'active',
      epoch: (current?.epoch ?? 0) + 1,
      updated_at: updatedAt,
      updated_by: 'test',
    },
    current?.epoch,
  );
}
