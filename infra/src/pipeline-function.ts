import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { ENV, type EnvName } from '@lakehouse/contract';
import { Fn, Lazy, Token } from 'cdktf';
import { Construct } from 'constructs';
import { ExecutionRole, type PolicyStatement } from './permissions';
import type { StackVariables } from './variables';

export interface PipelineFunctionProps {
  functionName: string;
  roleName: string;
  policyName: string;
  /** The image pinned by digest: `<repository>@sha256:...`. */
  imageUri: string;
  /** Overrides the image's CMD (the handler), e.g. the gold entry point. */
  command?: string[];
  timeout: number;
  /** At most this many at once, always available; -1 reserves none. */
  reservedConcurrency: number;
  vars: StackVariables;
}

/**
 * One Lambda function from the pipeline image, with its own execution role and
 * its own log group. Environment variables and the permissions they imply are
 * added together through the storage and queue constructs' bind helpers.
 */
export class PipelineFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: ExecutionRole;
  readonly logGroup: CloudwatchLogGroup;
  private readonly environment: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const { vars } = props;
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: vars.logRetentionDays.numberValue,
    });
    this.role = new ExecutionRole(this, 'execution', {
      roleName: props.roleName,
      policyName: props.policyName,
      inVpc: vars.inVpc,
    });
    this.role.allowLogsTo(this.logGroup.arn);

    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      role: this.role.arn,
      packageType: 'Image',
      imageUri: props.imageUri,
      imageConfig: props.command ? { command: props.command } : undefined,
      architectures: [vars.architecture.stringValue],
      memorySize: vars.memorySize.numberValue,
      timeout: props.timeout,
      ephemeralStorage: { size: vars.ephemeralStorageSize.numberValue },
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracingConfig: { mode: vars.tracingMode.stringValue },
      environment: { variables: Token.asStringMap(Lazy.anyValue({ produce: () => ({ ...this.environment }) })) },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      // The log group exists (with its retention) before the first invocation, and so do the grants
      // (in a VPC, Lambda checks it may create network interfaces when the function is created).
      dependsOn: [this.logGroup, this.role.policy, this.role.vpcPolicy, this.role.tracingPolicy],
    });
    // Log lines and metrics name their function: one stack's alarms never count another's.
    this.addEnvironment(ENV.serviceName, props.functionName);
    // A VPC only when subnets are given; an absent block keeps the function out of any VPC.
    this.function.addOverride('dynamic.vpc_config', {
      for_each: Fn.conditional(vars.inVpc, [1], []),
      content: {
        subnet_ids: vars.subnetIds.listValue,
        security_group_ids: vars.securityGroupIds.listValue,
      },
    });
  }

  get functionName(): string {
    return this.function.functionName;
  }

  get arn(): string {
    return this.function.arn;
  }

  addEnvironment(name: EnvName, value: string): void {
    this.environment[name] = value;
  }

  grant(statement: PolicyStatement): void {
    this.role.addStatement(statement);
  }
}
