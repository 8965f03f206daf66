/** Reading IAM out of synthesized templates, for the must / must-not permission tests. */
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalId } from './build.ts';

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

export function resourcesOf(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

/** Every statement of every policy attached to `roleId`. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every statement of every identity policy in the template. */
export function allStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Statement[],
  );
}

/** The resources `action` is allowed on across `statements` (flattened, for `toContainEqual`). */
export function resourcesAllowed(statements: readonly Statement[], action: string): unknown[] {
  return statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action)).flatMap(resourcesOf);
}

/** Every action any statement allows. */
export function actionsAllowed(statements: readonly Statement[]): Set<string> {
  return new Set(statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf));
}

/** `arn:aws:<service>:<region>:<account>:<rest>` as the template renders a formatArn. */
export function arnIn(service: string, region: string, rest: string): unknown {
  return { 'Fn::Join': ['', [`arn:aws:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${rest}`]] };
}

/** The statements of a construct's role (its default child), by the role's logical id. */
export function roleStatements(template: Template, role: { node: { defaultChild?: unknown } }): Statement[] {
  return statementsOfRole(template, logicalId(role.node.defaultChild));
}

/** DynamoDB actions allowed without a condition on `resource`, sorted. */
export function actionsOn(statements: readonly Statement[], resource: unknown): string[] {
  const actions = statements
    .filter((s) => s.Effect === 'Allow' && s.Condition === undefined)
    .filter((s) =>
      (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some(
        (r) => JSON.stringify(r) === JSON.stringify(resource),
      ),
    )
    .flatMap(actionsOf)
    .filter((a) => a.startsWith('dynamodb:'));
  return [...new Set(actions)].sort();
}
