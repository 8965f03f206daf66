/**
 * Audit reports copied to an S3 bucket in the audited region (lib/infra builds it with KMS
 * encryption, versioning and Object Lock for the compliance retention). One signed PUT per report,
 * with fetch and SigV4: the S3 client would be the only reason to ship another SDK package.
 */
import { createHash } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ComplianceAuditReport } from '../../core/compliance/types.ts';
import type { AuditArchivePort } from '../../ports.ts';

interface S3AuditArchiveOptions {
  readonly bucket: string;
  /** The bucket's region (the function's own). */
  readonly region: string;
  /** Default: the SDK's default chain, resolved on first use. */
  readonly credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
  /** Default `https://<bucket>.s3.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  /** Injected for tests; default global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The object key of a report: under the spec's `coordination/compliance/` namespace. */
export function auditObjectKey(report: Pick<ComplianceAuditReport, 'audit_id' | 'region'>): string {
  return `coordination/compliance/audits/${report.region}/${report.audit_id}.json`;
}

export class S3AuditArchive implements AuditArchivePort {
  readonly #bucket: string;
  readonly #endpoint: URL;
  readonly #region: string;
  readonly #signer: SignatureV4;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: S3AuditArchiveOptions) {
    if (!BUCKET_NAME.test(options.bucket))
      throw new Error(`S3AuditArchive: "${options.bucket}" is not a bucket name`);
    this.#bucket = options.bucket;
    this.#region = options.region;
    this.#endpoint = new URL(
      options.endpoint ?? `https://${options.bucket}.s3.${options.region}.amazonaws.com`,
    );
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#signer = new SignatureV4({
      service: 's3',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Hash.bind(null, 'sha256'),
      // S3 signs the path as sent, without the second URI encoding other services use.
      uriEscapePath: false,
    });
  }

  async archive(report: ComplianceAuditReport): Promise<string> {
    const key = auditObjectKey(report);
    const body = JSON.stringify(report);
    const url = new URL(this.#endpoint);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${key}`;
    const signed = await this.#signer.sign(
      {
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: {},
        headers: {
          host: url.host,
          'content-type': 'application/json',
          // Object Lock buckets refuse a PUT without an integrity header.
          'content-md5': createHash('md5').update(body).digest('base64'),
          'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        },
        body,
      },
      { signingRegion: this.#region },
    );
    const { host: _host, ...headers } = signed.headers;
    const response = await this.#fetch(url, {
      method: 'PUT',
      headers,
      body,
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 300);
      throw new Error(`S3 PutObject ${this.#bucket}/${key} answered ${response.status}: ${text}`);
    }
    return `s3://${this.#bucket}/${key}`;
  }
}
