/**
 * The age of each region's tunnel key against the topology's `key_rotation_days`: a key is `ok`,
 * `due` within the last tenth of its life (at least a day), or `expired` past it.
 */

export interface KeyRecord {
  readonly public_key: string;
  /** ISO time the key pair was generated. */
  readonly created_at: string;
}

interface KeyAge {
  readonly region: string;
  readonly public_key: string;
  readonly created_at: string;
  readonly age_days: number;
  readonly rotate_by: string;
  readonly state: 'ok' | 'due' | 'expired' | 'missing';
}

const DAY_MS = 86_400_000;

export function keyAges(
  regions: readonly string[],
  keys: Readonly<Record<string, KeyRecord>>,
  rotationDays: number,
  now: number,
): KeyAge[] {
  const warnMs = Math.max(DAY_MS, (rotationDays * DAY_MS) / 10);
  return regions.map((region): KeyAge => {
    const key = keys[region];
    if (!key) return { region, public_key: '', created_at: '', age_days: 0, rotate_by: '', state: 'missing' };
    const created = Date.parse(key.created_at);
    const rotateBy = created + rotationDays * DAY_MS;
    const state = now >= rotateBy ? 'expired' : now >= rotateBy - warnMs ? 'due' : 'ok';
    return {
      region,
      public_key: key.public_key,
      created_at: key.created_at,
      age_days: Math.floor((now - created) / DAY_MS),
      rotate_by: new Date(rotateBy).toISOString(),
      state,
    };
  });
}
