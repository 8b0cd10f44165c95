import { DEFAULT_CHUNK_THRESHOLD_MB, DEFAULT_GLUE_DATABASE } from '@lakehouse/contract';
import { Fn, type IResolvable, Op, TerraformVariable, type TerraformVariableConfig, Token } from 'cdktf';
import { Construct } from 'constructs';

/** A Terraform expression in a string (validation conditions). */
const tf = (expression: string) => `\${${expression}}`;

/**
 * The stack's Terraform variables: set at deploy time with
 * `cdktf deploy --var name=value` (or TF_VAR_name), not at synth time.
 * Their ids are the Terraform names (`var.aws_region`).
 */
export class StackVariables extends Construct {
  readonly awsRegion: TerraformVariable;
  readonly lambdaName: TerraformVariable;
  readonly bucketPrefix: TerraformVariable;
  readonly architecture: TerraformVariable;
  readonly memorySize: TerraformVariable;
  readonly timeout: TerraformVariable;
  readonly ephemeralStorageSize: TerraformVariable;
  readonly goldTimeout: TerraformVariable;
  readonly logRetentionDays: TerraformVariable;
  readonly forceDestroy: TerraformVariable;
  readonly rawNoncurrentVersionDays: TerraformVariable;
  readonly ecrKeepImages: TerraformVariable;
  readonly subnetIds: TerraformVariable;
  readonly securityGroupIds: TerraformVariable;
  readonly reservedConcurrency: TerraformVariable;
  readonly goldReservedConcurrency: TerraformVariable;
  readonly tracingMode: TerraformVariable;
  readonly alarmEmail: TerraformVariable;
  readonly goldLagAlarmSeconds: TerraformVariable;
  readonly glueDatabase: TerraformVariable;
  readonly athenaResultsDays: TerraformVariable;
  readonly reconcileEnabled: TerraformVariable;
  readonly reconcileSchedule: TerraformVariable;
  readonly reconcileRepair: TerraformVariable;
  readonly chunkThresholdMb: TerraformVariable;
  readonly chunkMaxConcurrency: TerraformVariable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const variable = (name: string, config: TerraformVariableConfig) => {
      const v = new TerraformVariable(this, name, config);
      // The Terraform name is exactly `name`, whatever the construct path: users type it in --var.
      v.overrideLogicalId(name);
      return v;
    };

    this.awsRegion = variable('aws_region', {
      type: 'string',
      default: 'us-east-1',
      description: 'AWS region to deploy into.',
    });
    this.lambdaName = variable('lambda_name', {
      type: 'string',
      default: 'duckdb_ingestion',
      description:
        'Name of the ingestion Lambda function; the gold function is <lambda_name>_gold and the queues are named after it.',
      validation: [
        {
          condition: tf('can(regex("^[A-Za-z0-9_-]{1,54}$", var.lambda_name))'),
          errorMessage: 'lambda_name: 1-54 letters, digits, hyphens or underscores (room for the _gold suffix).',
        },
      ],
    });
    this.bucketPrefix = variable('bucket_prefix', {
      type: 'string',
      default: '',
      description:
        'Optional prefix prepended to the bucket names (<prefix>raw-<account_id>), e.g. "acme-", to deploy beside another copy.',
      validation: [
        {
          condition: tf('can(regex("^([a-z0-9][a-z0-9-]{0,20})?$", var.bucket_prefix))'),
          errorMessage: 'bucket_prefix: empty, or up to 21 lowercase letters, digits and hyphens.',
        },
      ],
    });
    this.architecture = variable('architecture', {
      type: 'string',
      default: 'x86_64',
      description:
        'Lambda instruction set, x86_64 or arm64 (about 20% cheaper per GB-second); the image is built for the matching linux platform.',
      validation: [
        {
          condition: tf('contains(["x86_64", "arm64"], var.architecture)'),
          errorMessage: 'architecture must be x86_64 or arm64.',
        },
      ],
    });
    this.memorySize = variable('memory_size', {
      type: 'number',
      default: 2048,
      description:
        'Memory of each function in MB (1024-10240); DuckDB gets half of it, and vCPUs scale with it, about 1 per 1769 MB.',
      validation: [
        {
          // Below 1 GB, DuckDB's half is too small for its read and Parquet-write buffers.
          condition: tf('var.memory_size >= 1024 && var.memory_size <= 10240'),
          errorMessage: 'memory_size must be between 1024 and 10240 MB (DuckDB gets half of it).',
        },
      ],
    });
    this.timeout = variable('timeout', {
      type: 'number',
      default: 300,
      description: 'Timeout of the ingestion function in seconds (1-900).',
      validation: [
        { condition: tf('var.timeout >= 1 && var.timeout <= 900'), errorMessage: 'timeout must be 1-900 seconds.' },
      ],
    });
    this.ephemeralStorageSize = variable('ephemeral_storage_size', {
      type: 'number',
      default: 2048,
      description: 'Size of /tmp of each function in MB (512-10240): downloads and DuckDB spill files go there.',
      validation: [
        {
          condition: tf('var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240'),
          errorMessage: 'ephemeral_storage_size must be between 512 and 10240 MB.',
        },
      ],
    });
    this.goldTimeout = variable('gold_timeout', {
      type: 'number',
      default: 120,
      description: 'Timeout of the gold function in seconds (1-900); the gold queue visibility timeout is 6 times it.',
      validation: [
        {
          condition: tf('var.gold_timeout >= 1 && var.gold_timeout <= 900'),
          errorMessage: 'gold_timeout must be 1-900 seconds.',
        },
      ],
    });
    this.logRetentionDays = variable('log_retention_days', {
      type: 'number',
      default: 14,
      description: 'Days CloudWatch keeps the functions logs.',
      validation: [
        {
          condition: tf(
            'contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)',
          ),
          errorMessage: 'log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...).',
        },
      ],
    });
    this.forceDestroy = variable('force_destroy', {
      type: 'bool',
      default: false,
      description:
        'Let `cdktf destroy` delete the buckets and the ECR repository even when they still hold objects or images. Keep false in production.',
    });
    this.rawNoncurrentVersionDays = variable('raw_noncurrent_version_days', {
      type: 'number',
      default: 90,
      description:
        'Days raw keeps a version after it is overwritten or deleted (to restore or replay it); then S3 expires it.',
      validation: [
        {
          condition: tf('var.raw_noncurrent_version_days >= 1'),
          errorMessage: 'raw_noncurrent_version_days must be at least 1.',
        },
      ],
    });
    this.ecrKeepImages = variable('ecr_keep_images', {
      type: 'number',
      default: 10,
      description: 'How many images the ECR lifecycle policy keeps; older ones expire.',
      validation: [{ condition: tf('var.ecr_keep_images >= 1'), errorMessage: 'ecr_keep_images must be at least 1.' }],
    });
    this.subnetIds = variable('subnet_ids', {
      type: 'list(string)',
      default: [],
      description:
        'Optional VPC subnets for the functions; empty (the default) runs them outside a VPC. In a VPC they need an S3 gateway endpoint, and SQS and Step Functions access (endpoints or NAT).',
    });
    this.securityGroupIds = variable('security_group_ids', {
      type: 'list(string)',
      default: [],
      description: 'Security groups for the functions when subnet_ids is set.',
    });
    const concurrency = (name: string, which: string) =>
      variable(name, {
        type: 'number',
        default: -1,
        description: `Reserved concurrency of the ${which} function: at most this many run at once, and they are always available; -1 (the default) reserves none and runs within the account's unreserved pool.`,
        validation: [
          {
            // 0 would stop the function: every event would be throttled.
            condition: tf(`var.${name} == -1 || var.${name} >= 1`),
            errorMessage: `${name} must be -1 (no reservation) or at least 1.`,
          },
        ],
      });
    this.reservedConcurrency = concurrency('reserved_concurrency', 'ingestion');
    this.goldReservedConcurrency = concurrency('gold_reserved_concurrency', 'gold');
    this.tracingMode = variable('tracing_mode', {
      type: 'string',
      default: 'Active',
      description:
        'X-Ray tracing of the functions and the chunk state machine: Active samples and traces invocations, PassThrough traces only requests that arrive already sampled.',
      validation: [
        {
          condition: tf('contains(["Active", "PassThrough"], var.tracing_mode)'),
          errorMessage: 'tracing_mode must be Active or PassThrough.',
        },
      ],
    });
    this.alarmEmail = variable('alarm_email', {
      type: 'string',
      default: '',
      description:
        'Optional e-mail address subscribed to the alarm topic (AWS sends a confirmation mail first); empty (the default) subscribes nobody.',
      validation: [
        {
          condition: tf('var.alarm_email == "" || can(regex("^[^@ ]+@[^@ ]+$", var.alarm_email))'),
          errorMessage: 'alarm_email must be empty or an e-mail address.',
        },
      ],
    });
    this.goldLagAlarmSeconds = variable('gold_lag_alarm_seconds', {
      type: 'number',
      default: 1800,
      description:
        'Alarm when the oldest gold job has waited this many seconds: gold is that far behind silver (a failing job blocks its dataset).',
      validation: [
        {
          condition: tf('var.gold_lag_alarm_seconds >= 60'),
          errorMessage: 'gold_lag_alarm_seconds must be at least 60.',
        },
      ],
    });
    this.glueDatabase = variable('glue_database', {
      type: 'string',
      default: DEFAULT_GLUE_DATABASE,
      description:
        'Glue Data Catalog database of the lakehouse tables (silver_<dataset>, rejects_<dataset>, gold_<dataset>_<table>, quarantine), queried by Athena.',
      validation: [
        {
          condition: tf('can(regex("^[a-z][a-z0-9_]{0,254}$", var.glue_database))'),
          errorMessage: 'glue_database: lowercase letters, digits and underscores, starting with a letter.',
        },
      ],
    });
    this.athenaResultsDays = variable('athena_results_days', {
      type: 'number',
      default: 30,
      description: 'Days the Athena workgroup keeps query results in its results bucket before S3 expires them.',
      validation: [
        { condition: tf('var.athena_results_days >= 1'), errorMessage: 'athena_results_days must be at least 1.' },
      ],
    });
    this.reconcileEnabled = variable('reconcile_enabled', {
      type: 'bool',
      default: false,
      description: 'Run the scheduled reconciliation (raw objects and silver files left behind, as metrics).',
    });
    this.reconcileSchedule = variable('reconcile_schedule', {
      type: 'string',
      default: 'rate(1 hour)',
      description: 'EventBridge schedule expression of the reconciliation: rate(...) or cron(...).',
      validation: [
        {
          condition: tf('can(regex("^(rate|cron)[(].+[)]$", var.reconcile_schedule))'),
          errorMessage: 'reconcile_schedule must be rate(...) or cron(...).',
        },
      ],
    });
    this.reconcileRepair = variable('reconcile_repair', {
      type: 'bool',
      default: false,
      description: 'The scheduled reconciliation also replays what it finds (as pnpm reconcile --aws does).',
    });
    this.chunkThresholdMb = variable('chunk_threshold_mb', {
      type: 'number',
      default: DEFAULT_CHUNK_THRESHOLD_MB,
      description:
        'Raw files above this many MB are planned in chunks of about this size and run by the chunk state machine (Step Functions Distributed Map); smaller ones, and files that cannot be split exactly, are processed whole.',
      validation: [
        {
          condition: tf('var.chunk_threshold_mb >= 16 && var.chunk_threshold_mb <= 10240'),
          errorMessage: 'chunk_threshold_mb must be between 16 and 10240 MB.',
        },
      ],
    });
    this.chunkMaxConcurrency = variable('chunk_max_concurrency', {
      type: 'number',
      default: 20,
      description:
        "Chunks of one file processed at once (the Distributed Map's MaxConcurrency); each is one invocation of the chunk function.",
      validation: [
        {
          condition: tf('var.chunk_max_concurrency >= 1 && var.chunk_max_concurrency <= 10000'),
          errorMessage: 'chunk_max_concurrency must be between 1 and 10000.',
        },
      ],
    });
  }

  /** The linux platform the image is built for, from the architecture variable (known at plan time). */
  get dockerPlatform(): string {
    return Token.asString(Fn.conditional(Op.eq(this.architecture.stringValue, 'arm64'), 'linux/arm64', 'linux/amd64'));
  }

  /** True (at plan time) when the functions run in a VPC. */
  get inVpc(): IResolvable {
    // `>= 1`, not `> 0`: cdktf 0.21 renders a literal 0 operand as `undefined`.
    return Op.gte(Fn.lengthOf(this.subnetIds.listValue), 1);
  }
}
