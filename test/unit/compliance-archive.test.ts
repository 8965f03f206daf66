import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditObjectKey, S3AuditArchive } from '../../lib/adapters/aws/s3-audit-archive.ts';
import type { ComplianceAuditReport } from '../../lib/core/compliance/types.ts';

const zero = { data_residency: 0, encryption: 0, access_control: 0, retention: 0 };
const report: ComplianceAuditReport = {
  audit_id: 'audit-eu-west-1-20261126',
  audit_date: '2026-11-26T00:00:00Z',
  region: 'eu-west-1',
  trigger: 'scheduled',
  scope: { regions: ['eu-west-1'], handoffs: 0, records: 0 },
  deployment: { source: 'aws', description: 'd' },
  checks: zero,
  total_violations: 0,
  violations_by_type: zero,
  compliance_score: 100,
  status: 'compliant',
  targets: { data_residency_violations: { value: 0, target: 0, met: true } },
  violations: [],
};

function archive(answer: Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const store = new S3AuditArchive({
    bucket: 'cortex-audit-eu-west-1',
    region: 'eu-west-1',
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
    fetch: (async (url: URL, init: RequestInit) => {
      calls.push({ url: String(url), init });
      return answer;
    }) as unknown as typeof fetch,
  });
  return { store, calls };
}

describe('S3 audit archive', () => {
  it('PUTs the report under coordination/compliance/, signed for S3 in its region, with an integrity header', async () => {
    const { store, calls } = archive(new Response('', { status: 200 }));
    expect(await store.archive(report)).toBe(
      's3://cortex-audit-eu-west-1/coordination/compliance/audits/eu-west-1/audit-eu-west-1-20261126.json',
    );
    expect(auditObjectKey(report)).toBe(
      'coordination/compliance/audits/eu-west-1/audit-eu-west-1-20261126.json',
    );
    expect(calls).toHaveLength(1);
    const { url, init } = calls[0] as { url: string; init: RequestInit };
    expect(url).toBe(
      'https://cortex-audit-eu-west-1.s3.eu-west-1.amazonaws.com/coordination/compliance/audits/eu-west-1/audit-eu-west-1-20261126.json',
    );
    expect(init.method).toBe('PUT');
    expect(init.body).toBe(JSON.stringify(report));
    const headers = init.headers as Record<string, string>;
    expect(headers['content-md5']).toBe(createHash('md5').update(JSON.stringify(report)).digest('base64'));
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('fails with what S3 answered, and refuses a bad bucket name', async () => {
    const { store } = archive(new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403 }));
    await expect(store.archive(report)).rejects.toThrow(
      /S3 PutObject cortex-audit-eu-west-1\/coordination\/compliance\/audits\/eu-west-1\/audit-eu-west-1-20261126.json answered 403: <Error><Code>AccessDenied/,
    );
    expect(() => new S3AuditArchive({ bucket: 'Not_A_Bucket', region: 'eu-west-1' })).toThrow(
      /not a bucket name/,
    );
  });
});
