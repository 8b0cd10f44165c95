import { jsonDocument } from './json-document';

/**
 * A customer managed KMS key's policy: the account administers the key
 * through IAM (without this statement no one could, not even root), then
 * `grants`, the AWS services that encrypt with it, each limited by a condition.
 */
export function keyPolicy(
  { partition, accountId }: { partition: string; accountId: string },
  grants: ReadonlyArray<Record<string, unknown>>,
): string {
  return jsonDocument({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministersKey',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      ...grants,
    ],
  });
}
