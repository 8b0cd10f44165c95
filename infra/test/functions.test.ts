// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { ENV, GOLD_COMMAND } from '@lakehouse/contract';
import { Testing } from 'cdktf';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('IngestionConstruct', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLakehouse({ kind: 'local', path: '/state/terraform.lakehouse.tfstate' });
  });

  const fn = (name: 'ingest' | 'gold') => single(s.json, 'aws_lambda_function', `ingestion_${name}_function`);
  const logGroup = (name: 'ingest' | 'gold') => single(s.json, 'aws_cloudwatch_log_group', `ingestion_${name}_logs`);
  const policy = (name: 'ingest' | 'gold') =>
    single(s.json, 'aws_iam_role_policy', `ingestion_${name}_execution_policy`);
  const bucket = (zone: string) => single(s.json, 'aws_s3_bucket', `storage_${zone}_`);
  const goldQueue = () => single(s.json, 'aws_sqs_queue', 'ingestion_gold-queue_jobs');
  const goldDlq = () => single(s.json, 'aws_sqs_queue', 'ingestion_gold-queue_dead-letters');
  const failedEvents = () => single(s.json, 'aws_sqs_queue', 'ingestion_failed-events');
  const imageUri = () =>
    `${single(s.json, 'aws_ecr_repository', 'image_repository').ref('repository_url')}@${single(s.json, 'docker_registry_image', 'image_pushed').ref('sha256_digest')}`;

  describe('the ingestion function', () => {
    it('is var.lambda_name, an Image function pinned by digest, sized by the variables', () => {
      expect(fn('ingest').config).toMatchObject({
        function_name: '${var.lambda_name}',
        package_type: 'Image',
        image_uri: imageUri(),
        architectures: ['${var.architecture}'],
        memory_size: '${var.memory_size}',
        timeout: '${var.timeout}',
        ephemeral_storage: { size: '${var.ephemeral_storage_size}' },
      });
      expect(fn('ingest').config.image_uri).toMatch(/@\$\{docker_registry_image\.[^}]+\.sha256_digest\}$/);
    });

    it('runs the image CMD (the ingestion handler): no command override', () => {
      expect(fn('ingest').config.image_config).toBeUndefined();
    });

    it('names the silver and gold buckets and the gold queue in its environment', () => {
      expect(fn('ingest').config.environment.variables).toEqual({
        [ENV.silverBucket]: bucket('silver').ref('bucket'),
        [ENV.goldBucket]: bucket('gold').ref('bucket'),
        [ENV.goldQueueUrl]: goldQueue().ref('url'),
        // Its log lines and metrics carry its name: the alarms of one stack count only its own files.
        [ENV.serviceName]: '${var.lambda_name}',
        // The Glue database where it keeps the tables of datasets without a transforms folder.
        [ENV.glueDatabase]: single(s.json, 'aws_glue_catalog_database', 'catalog_database').ref('name'),
        // Files above the threshold are planned and handed to the chunk state machine.
        [ENV.chunkStateMachineArn]: single(s.json, 'aws_sfn_state_machine', 'chunks_').ref('arn'),
        [ENV.chunkThresholdMb]: '${var.chunk_threshold_mb}',
      });
    });

    it('logs to its own log group, created first, with the retention variable', () => {
      expect(logGroup('ingest').config).toEqual({
        name: '/aws/lambda/${var.lambda_name}',
        retention_in_days: '${var.log_retention_days}',
      });
      expect(fn('ingest').config.logging_config).toEqual({
        log_format: 'JSON',
        log_group: logGroup('ingest').ref('name'),
      });
      expect(fn('ingest').config.depends_on).toEqual(
        expect.arrayContaining([logGroup('ingest').address, policy('ingest').address]),
      );
    });

    it.each(['ingest', 'gold'] as const)(
      '%s: is created after its network-interface policy (Lambda checks it when a function joins a VPC)',
      (name) => {
        const vpcPolicy = single(s.json, 'aws_iam_role_policy', `ingestion_${name}_execution_vpc-access`);
        expect(fn(name).config.depends_on).toContain(vpcPolicy.address);
      },
    );

    it('joins a VPC only when subnet_ids is set', () => {
      expect(fn('ingest').config.vpc_config).toBeUndefined();
      expect(fn('ingest').config.dynamic.vpc_config).toEqual({
        for_each: '${(length(var.subnet_ids) >= 1) ? [1] : []}',
        content: { subnet_ids: '${var.subnet_ids}', security_group_ids: '${var.security_group_ids}' },
      });
    });
  });

  describe('the S3 trigger', () => {
    it('lets only the raw bucket of this account invoke the function', () => {
      expect(s.synth).toHaveResourceWithProperties(LambdaPermission, {
        action: 'lambda:InvokeFunction',
        principal: 's3.amazonaws.com',
        function_name: fn('ingest').ref('function_name'),
        source_arn: bucket('raw').ref('arn'),
        source_account: single(s.json, 'aws_caller_identity', 'current', 'data').ref('account_id'),
      });
    });

    it('sends every ObjectCreated event of raw to the function, after the permission exists', () => {
      const notification = single(s.json, 'aws_s3_bucket_notification', 'ingestion_raw-notification').config;
      expect(notification).toEqual({
        bucket: bucket('raw').ref('id'),
        lambda_function: [{ lambda_function_arn: fn('ingest').ref('arn'), events: ['s3:ObjectCreated:*'] }],
        depends_on: [single(s.json, 'aws_lambda_permission', 'ingestion_allow-raw-bucket').address],
      });
    });

    it('retries failed events twice, for up to 6 hours, then keeps them in an encrypted queue', () => {
      expect(s.synth).toHaveResourceWithProperties(LambdaFunctionEventInvokeConfig, {
        function_name: fn('ingest').ref('function_name'),
        maximum_retry_attempts: 2,
        maximum_event_age_in_seconds: 21600,
        destination_config: { on_failure: { destination: failedEvents().ref('arn') } },
        depends_on: [policy('ingest').address],
      });
      expect(failedEvents().config).toMatchObject({
        name: '${var.lambda_name}-failed-events',
        sqs_managed_sse_enabled: true,
        message_retention_seconds: 1209600,
      });
      expect(failedEvents().config.fifo_queue).toBeUndefined();
    });
  });

  describe('the gold queue and function', () => {
    it('is a FIFO queue, encrypted, with a visibility timeout 6x the gold timeout and a FIFO dead-letter queue', () => {
      expect(goldQueue().config).toMatchObject({
        name: '${var.lambda_name}-gold.fifo',
        fifo_queue: true,
        content_based_deduplication: false,
        sqs_managed_sse_enabled: true,
        visibility_timeout_seconds: '${(var.gold_timeout * 6)}',
      });
      expect(JSON.parse(goldQueue().config.redrive_policy)).toEqual({
        deadLetterTargetArn: goldDlq().ref('arn'),
        maxReceiveCount: 5,
      });
      expect(goldDlq().config).toMatchObject({
        name: '${var.lambda_name}-gold-dlq.fifo',
        fifo_queue: true,
        sqs_managed_sse_enabled: true,
      });
    });

    it('runs the same image with the gold entry point', () => {
      expect(fn('gold').config).toMatchObject({
        function_name: '${var.lambda_name}_gold',
        package_type: 'Image',
        image_uri: imageUri(),
        image_config: { command: [GOLD_COMMAND] },
        timeout: '${var.gold_timeout}',
        architectures: ['${var.architecture}'],
      });
      expect(fn('gold').config.role).not.toBe(fn('ingest').config.role);
    });

    it('names the silver and gold buckets in its environment, and keeps a quarter of /tmp for cached state', () => {
      expect(fn('gold').config.environment.variables).toEqual({
        [ENV.silverBucket]: bucket('silver').ref('bucket'),
        [ENV.goldBucket]: bucket('gold').ref('bucket'),
        [ENV.goldCacheMb]: '${floor((var.ephemeral_storage_size / 4))}',
        [ENV.serviceName]: '${var.lambda_name}_gold',
      });
      expect(logGroup('gold').config.name).toBe('/aws/lambda/${var.lambda_name}_gold');
    });

    it('consumes the queue in batches, reporting failed items, once its role may', () => {
      expect(s.synth).toHaveResourceWithProperties(LambdaEventSourceMapping, {
        event_source_arn: goldQueue().ref('arn'),
        function_name: fn('gold').ref('arn'),
        // One job per invocation: a timeout strands no job behind it.
        batch_size: 1,
        function_response_types: ['ReportBatchItemFailures'],
        depends_on: [policy('gold').address],
      });
    });
  });

  describe('the stack', () => {
    it('deploys to var.aws_region and tags everything', () => {
      expect(s.synth).toHaveProviderWithProperties(AwsProvider, {
        region: '${var.aws_region}',
        default_tags: [{ tags: { project: 'lakehouse-etl', 'managed-by': 'cdktf' } }],
      });
    });

    it('keeps state in a local backend by default', () => {
      expect(s.json.terraform.backend).toEqual({ local: { path: '/state/terraform.lakehouse.tfstate' } });
      expect(Object.keys(s.json.terraform.required_providers as Json).sort()).toEqual(['aws', 'docker']);
    });
  });
});
