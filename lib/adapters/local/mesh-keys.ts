/**
 * The mesh's tunnel keys on local disk: one X25519 key pair per region, generated here (never sent
 * anywhere). Private keys live in `<dir>/<region>.key` with mode 0600 and are never printed; the
 * public keys and creation dates in `<dir>/keys.json`, which is safe to share.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRecord } from '../../core/network/keys.ts';

const INDEX = 'keys.json';
const REGION_ID = /^[a-z0-9-]+$/;

export class MeshKeyStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Public keys and creation dates by region ({} before any key is made). */
  async records(): Promise<Record<string, KeyRecord>> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, INDEX), 'utf8')) as {
        regions?: Record<string, KeyRecord>;
      };
      return parsed.regions ?? {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`${join(this.dir, INDEX)} is not a key index: ${(error as Error).message}`);
    }
  }

  /** The private key of `region` (base64), for rendering its configuration. */
  async privateKey(region: string): Promise<string> {
    return (await readFile(this.#keyPath(region), 'utf8')).trim();
  }

  /** Makes a key pair for every region in `regions` that has none; answers the regions it made keys for. */
  async ensure(regions: readonly string[], now: number): Promise<string[]> {
    const records = await this.records();
    const missing = regions.filter((r) => !records[r]);
    if (missing.length > 0) await this.#generate(missing, records, now);
    return missing;
  }

  /** New key pairs for `regions`, replacing the old ones. */
  async rotate(regions: readonly string[], now: number): Promise<void> {
    await this.#generate(regions, await this.records(), now);
  }

  async #generate(
    regions: readonly string[],
    records: Record<string, KeyRecord>,
    now: number,
  ): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const next = { ...records };
    for (const region of regions) {
      const { private_key, public_key } = x25519Pair();
      // Written to a temporary file with 0600 from the start, then renamed: the key is never readable by others.
      const path = this.#keyPath(region);
      await writeFile(`${path}.tmp`, `${private_key}\n`, { mode: 0o600 });
      await chmod(`${path}.tmp`, 0o600);
      await rename(`${path}.tmp`, path);
      next[region] = { public_key, created_at: new Date(now).toISOString() };
    }
    const index = join(this.dir, INDEX);
    await writeFile(`${index}.tmp`, `${JSON.stringify({ regions: next }, null, 2)}\n`);
    await rename(`${index}.tmp`, index);
  }

  #keyPath(region: string): string {
    if (!REGION_ID.test(region)) throw new RangeError(`not a region id: ${region}`);
    return join(this.dir, `${region}.key`);
  }
}

/** A Curve25519 key pair as WireGuard writes keys: base64 of the 32 raw bytes. */
function x25519Pair(): { private_key: string; public_key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = publicKey.export({ format: 'jwk' });
  return { private_key: fromBase64Url(jwk.d as string), public_key: fromBase64Url(pub.x as string) };
}

function fromBase64Url(value: string): string {
  return Buffer.from(value, 'base64url').toString('base64');
}
