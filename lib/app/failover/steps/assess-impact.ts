/** assess_impact (detection): how much work the failed region holds, by data residency. */
import type { Handoff } from '../../../core/state/records.ts';
import type { Handoffs } from '../../../ports.ts';
import type { Perform } from '../step-context.ts';

export const assessImpact: Perform<Handoffs> = async ({ deps, record }) => {
  const handoffs = await deps.state.listHandoffsByTarget(record.failed_region);
  const pending = handoffs.filter((h) => h.status === 'pending');
  const inFlight = handoffs.filter((h) => h.status === 'accepted');
  const residency = new Map<string, number>();
  for (const handoff of pending) {
    const code = residencyOf(handoff) ?? 'unrestricted';
    residency.set(code, (residency.get(code) ?? 0) + 1);
  }
  const byResidency = [...residency].map(([code, n]) => `${n} ${code}`).join(', ');
  return {
    outcome: 'succeeded',
    detail:
      `regional failure of ${record.failed_region}: ${pending.length} pending and ${inFlight.length} ` +
      `in-flight handoff(s)${byResidency ? ` (residency: ${byResidency})` : ''}`,
  };
};

function residencyOf(handoff: Handoff): string | undefined {
  const requirements = (handoff.task as { requirements?: { data_residency?: unknown } }).requirements;
  return typeof requirements?.data_residency === 'string' ? requirements.data_residency : undefined;
}
