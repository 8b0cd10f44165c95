import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn, type IResolvable, Lazy, Token } from 'cdktf';
import { Construct } from 'constructs';
import { jsonDocument } from './json-document';

/** One IAM policy statement; Sid is alphanumeric (IAM's rule) and says why the grant exists. */
export interface PolicyStatement {
  sid: string;
  actions: string[];
  resources: string[];
}

export interface ExecutionRoleProps {
  roleName: string;
  policyName: string;
  /** True (at plan time) when the function runs in a VPC: only then may it manage network interfaces. */
  inVpc: IResolvable;
}

/**
 * A Lambda execution role and its one inline policy, which collects the
 * statements that the constructs grant (storage.grantRead, queue.bindProducer,
 * ...), so every permission sits next to the code that needs it.
 */
export class ExecutionRole extends Construct {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
  /** Network-interface actions, only when the function runs in a VPC (count 0 otherwise). */
  readonly vpcPolicy: IamRolePolicy;
  /** X-Ray segments, in a policy of their own: X-Ray has no resource-level permissions. */
  readonly tracingPolicy: IamRolePolicy;
  private readonly statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: ExecutionRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      description: 'Lambda execution role of the lakehouse ETL (least privilege)',
      assumeRolePolicy: jsonDocument({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    this.policy = new IamRolePolicy(this, 'policy', {
      name: props.policyName,
      role: this.role.id,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements) }),
    });
    // ENI management cannot be scoped to resources (ec2:Describe* needs "*"), so it exists only in a VPC.
    this.vpcPolicy = new IamRolePolicy(this, 'vpc-access', {
      count: Token.asNumber(Fn.conditional(props.inVpc, 1, 0)),
      name: `${props.policyName}_vpc`,
      role: this.role.id,
      policy: policyDocument([
        {
          sid: 'ManageNetworkInterfacesInVpc',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        },
      ]),
    });
    // What Lambda needs to send trace segments (active tracing); these actions only accept "*".
    this.tracingPolicy = new IamRolePolicy(this, 'tracing', {
      name: `${props.policyName}_xray`,
      role: this.role.id,
      policy: policyDocument([
        { sid: 'SendTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
      ]),
    });
  }

  get arn(): string {
    return this.role.arn;
  }

  addStatement(statement: PolicyStatement): void {
    if (!/^[A-Za-z0-9]+$/.test(statement.sid)) throw new Error(`IAM Sid must be alphanumeric: ${statement.sid}`);
    const existing = this.statements.find((s) => s.sid === statement.sid);
    if (existing) {
      // The same grant twice (two helpers naming one bucket) merges instead of duplicating the Sid.
      existing.actions = [...new Set([...existing.actions, ...statement.actions])];
      existing.resources = [...new Set([...existing.resources, ...statement.resources])];
      return;
    }
    this.statements.push({ ...statement });
  }

  /** Logs only to the function's own log group (which the stack declares, so no logs:CreateLogGroup). */
  allowLogsTo(logGroupArn: string): void {
    this.addStatement({
      sid: 'WriteOwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${logGroupArn}:*`],
    });
  }
}

/** An IAM policy document of Allow statements, rendered with jsonDocument. */
export function policyDocument(statements: PolicyStatement[]): string {
  return jsonDocument({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({ Sid: s.sid, Effect: 'Allow', Action: s.actions, Resource: s.resources })),
  });
}
