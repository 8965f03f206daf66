/**
 * What each runtime configures, declared once and honestly: the compliance rules refuse `pii` and
 * `sensitive` data wherever the facts fall short of a requirement.
 */
import type { DeploymentFacts } from './types.ts';

/**
 * The AWS deployment as lib/infra builds it: every state-table replica encrypted with its region's
 * customer-managed KMS key (AES-256-GCM), API Gateway HTTPS only with IAM (SigV4) authorization on
 * every route that touches data, one role per function, JSON access logs. IAM does not enforce MFA
 * for SigV4 callers, so MFA is not claimed. The CDK passes these facts to every function
 * (`CORTEX_DEPLOYMENT_FACTS`); they change only with the infrastructure.
 */
export const AWS_DEPLOYMENT_FACTS: DeploymentFacts = Object.freeze({
  source: 'aws',
  description:
    'DynamoDB replicas encrypted with a customer-managed KMS key; HTTPS API with IAM authorization',
  encryption_at_rest: Object.freeze({
    enabled: true,
    algorithm: 'aes_256',
    key: 'customer_managed' as const,
  }),
  encryption_in_transit: true,
  access_control: Object.freeze({ authentication: 'iam' as const, role_based: true, mfa_enforced: false }),
  access_logging: true,
});

/**
 * The local stores as they are: dynalite files on disk (not encrypted), plain HTTP on loopback, no
 * authentication, no access log. `cortex local --no-aws-controls` judges them by these facts, so
 * `pii` and `sensitive` data are refused and the audit reports the gaps; by default the local
 * control plane answers with AWS_DEPLOYMENT_FACTS, as the deployment it stands for.
 */
export const LOCAL_DEPLOYMENT_FACTS: DeploymentFacts = Object.freeze({
  source: 'local',
  description:
    'dynalite stores on local disk without encryption; plain HTTP on loopback without authentication',
  encryption_at_rest: Object.freeze({ enabled: false }),
  encryption_in_transit: false,
  access_control: Object.freeze({ authentication: 'none' as const, role_based: false, mfa_enforced: false }),
  access_logging: false,
});

/** Reads facts passed as JSON (the Lambda environment); every missing or malformed field is named. */
export function parseDeploymentFacts(value: unknown): DeploymentFacts {
  const problems: string[] = [];
  const object = (v: unknown, field: string): Record<string, unknown> => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${field} must be an object`);
      return {};
    }
    return v as Record<string, unknown>;
  };
  const bool = (v: unknown, field: string): boolean => {
    if (typeof v !== 'boolean') problems.push(`${field} must be true or false`);
    return v === true;
  };
  const text = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v.length === 0) problems.push(`${field} must be a non-empty string`);
    return typeof v === 'string' ? v : '';
  };
  const root = object(value, 'deployment facts');
  const atRest = object(root.encryption_at_rest, 'encryption_at_rest');
  const access = object(root.access_control, 'access_control');
  const authentication = access.authentication;
  if (authentication !== 'iam' && authentication !== 'none') {
    problems.push('access_control.authentication must be iam or none');
  }
  const key = atRest.key;
  if (key !== undefined && key !== 'customer_managed' && key !== 'service_managed') {
    problems.push('encryption_at_rest.key must be customer_managed or service_managed');
  }
  const facts: DeploymentFacts = {
    source: text(root.source, 'source'),
    description: text(root.description, 'description'),
    encryption_at_rest: {
      enabled: bool(atRest.enabled, 'encryption_at_rest.enabled'),
      ...(atRest.algorithm === undefined
        ? {}
        : { algorithm: text(atRest.algorithm, 'encryption_at_rest.algorithm') }),
      ...(key === 'customer_managed' || key === 'service_managed' ? { key } : {}),
    },
    encryption_in_transit: bool(root.encryption_in_transit, 'encryption_in_transit'),
    access_control: {
      authentication: authentication === 'iam' ? 'iam' : 'none',
      role_based: bool(access.role_based, 'access_control.role_based'),
      mfa_enforced: bool(access.mfa_enforced, 'access_control.mfa_enforced'),
    },
    access_logging: bool(root.access_logging, 'access_logging'),
  };
  if (problems.length > 0) throw new Error(`invalid deployment facts: ${problems.join('; ')}`);
  return facts;
}
