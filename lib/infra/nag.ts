import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard `resources` entry on `construct`
 * (and its children: a role's default policy). cdk-nag 3 acknowledges findings one by one by id,
 * `AwsSolutions-IAM5[Resource::<flattened ARN>]`, so the ids are derived here the way cdk-nag
 * flattens CloudFormation references (`{ Ref: 'AWS::AccountId' }` -> `<AWS::AccountId>`).
 */
export function acknowledgeWildcardResources(
  construct: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(construct);
  for (const resource of resources) {
    const flat = flatten(stack.resolve(resource));
    if (!flat.includes('*')) continue;
    Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const value = node as Record<string, unknown>;
  if (Array.isArray(value['Fn::Join'])) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (value.Ref !== undefined) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(node);
}
