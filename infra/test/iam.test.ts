// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { Testing } from 'cdktf';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
}

/** Resource ARN -> sorted actions, over the policy's statements whose actions match `service`. */
function grants(statements: Statement[], service: string): Record<string, string[]> {
  const byResource: Record<string, Set<string>> = {};
  for (const statement of statements) {
    const actions = statement.Action.filter((a) => a.startsWith(`${service}:`));
    if (actions.length === 0) continue;
    for (const resource of statement.Resource) {
      byResource[resource] ??= new Set();
      for (const action of actions) byResource[resource].add(action);
    }
  }
  return Object.fromEntries(Object.entries(byResource).map(([r, actions]) => [r, [...actions].sort()]));
}

describe('execution roles (least privilege)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLakehouse();
  });

  const policy = (name: 'ingest' | 'gold') =>
    single(s.json, 'aws_iam_role_policy', `ingestion_${name}_execution_policy`);
  const statements = (name: 'ingest' | 'gold') => {
    const document = JSON.parse(policy(name).config.policy) as Json;
    expect(document.Version).toBe('2012-10-17');
    return document.Statement as Statement[];
  };
  const arn = (zone: string) => single(s.json, 'aws_s3_bucket', `storage_${zone}_`).ref('arn');
  const objects = (zone: string) => `${arn(zone)}/*`;
  const queueArn = (prefix: string) => single(s.json, 'aws_sqs_queue', prefix).ref('arn');
  const logGroupArn = (name: string) => single(s.json, 'aws_cloudwatch_log_group', `ingestion_${name}_logs`).ref('arn');

  it('keeps the original role and policy names, one role per function, assumed by Lambda only', () => {
    expect(s.synth).toHaveResourceWithProperties(IamRole, { name: 'role_lambda_duckdb' });
    expect(s.synth).toHaveResourceWithProperties(IamRole, { name: 'role_lambda_duckdb_gold' });
    expect(policy('ingest').config.name).toBe('policy_lambda_duckdb');
    expect(policy('gold').config.name).toBe('policy_lambda_duckdb_gold');
    for (const name of ['ingest', 'gold']) {
      const role = single(s.json, 'aws_iam_role', `ingestion_${name}_execution_role`);
      expect(JSON.parse(role.config.assume_role_policy).Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
      expect(policy(name as 'ingest' | 'gold').config.role).toBe(role.ref('id'));
    }
  });

  it.each(['ingest', 'gold'] as const)('%s: no wildcard action and no "*" resource in any statement', (name) => {
    for (const statement of statements(name)) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Sid).toMatch(/^[A-Za-z0-9]+$/);
      for (const action of statement.Action) expect(action).not.toMatch(/\*/);
      expect(statement.Resource).not.toContain('*');
      // A resource of the stack, or a Glue ARN of this account, region and partition.
      for (const resource of statement.Resource) {
        expect(resource).toMatch(
          /^(\$\{aws_|arn:\$\{data\.aws_partition\.partition\.partition\}:glue:\$\{var\.aws_region\}:\$\{data\.aws_caller_identity\.current\.account_id\}:)/,
        );
      }
    }
  });

  it('ingest: reads raw objects (by version), writes silver objects, reads only the schemas in silver, nothing on gold', () => {
    expect(grants(statements('ingest'), 's3')).toEqual({
      [objects('raw')]: ['s3:GetObject', 's3:GetObjectVersion'],
      [objects('silver')]: ['s3:AbortMultipartUpload', 's3:PutObject'],
      // Each dataset's current schema, which ingestion reads and rewrites with a conditional PUT.
      [`${arn('silver')}/_schema/*`]: ['s3:GetObject'],
      // A dataset's first file: no schema yet answers 404 (not found), not 403.
      [arn('silver')]: ['s3:ListBucket'],
    });
  });

  it('ingest: sends gold jobs and failed events, to those two queues only', () => {
    expect(grants(statements('ingest'), 'sqs')).toEqual({
      [queueArn('ingestion_gold-queue_jobs')]: ['sqs:SendMessage'],
      [queueArn('ingestion_failed-events')]: ['sqs:SendMessage'],
    });
  });

  it('ingest: starts and lists executions of the chunk state machine, and of no other', () => {
    expect(grants(statements('ingest'), 'states')).toEqual({
      [single(s.json, 'aws_sfn_state_machine', 'chunks_').ref('arn')]: [
        'states:ListExecutions',
        'states:StartExecution',
      ],
    });
  });

  it('gold: reads silver objects, reads/writes/deletes gold objects, lists both buckets; no version reads (unversioned)', () => {
    expect(grants(statements('gold'), 's3')).toEqual({
      [objects('silver')]: ['s3:GetObject'],
      [objects('gold')]: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      // Listing is what makes a missing key answer 404 (not found) rather than 403.
      [arn('silver')]: ['s3:ListBucket'],
      [arn('gold')]: ['s3:ListBucket'],
    });
  });

  it('gold: consumes the gold queue only', () => {
    expect(grants(statements('gold'), 'sqs')).toEqual({
      [queueArn('ingestion_gold-queue_jobs')]: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
    });
  });

  it.each(['ingest', 'gold'] as const)('%s: writes logs to its own log group only, and creates none', (name) => {
    expect(grants(statements(name), 'logs')).toEqual({
      [`${logGroupArn(name)}:*`]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    });
  });

  it.each([
    ['ingest', ['glue', 'logs', 's3', 'sqs', 'states']],
    ['gold', ['logs', 's3', 'sqs']],
  ] as const)('%s: grants nothing beyond %j', (name, expected) => {
    const services = new Set(statements(name).flatMap((st) => st.Action.map((a) => a.split(':')[0])));
    expect([...services].sort()).toEqual(expected);
  });

  it.each(['ingest', 'gold'] as const)(
    '%s: network-interface actions exist only when subnets are configured',
    (name) => {
      const vpc = single(s.json, 'aws_iam_role_policy', `ingestion_${name}_execution_vpc-access`).config;
      expect(vpc.count).toBe('${(length(var.subnet_ids) >= 1) ? 1 : 0}');
      const [statement] = JSON.parse(vpc.policy).Statement as Statement[];
      expect(statement?.Action.every((a) => a.startsWith('ec2:'))).toBe(true);
      expect(statement?.Action).toContain('ec2:CreateNetworkInterface');
      expect(vpc.role).toBe(policy(name).config.role);
    },
  );
});
