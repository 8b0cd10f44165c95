import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { goldTable, INGEST_COMMAND, silverTable } from '@lakehouse/contract';
import { Aspects, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { DatasetTables } from '../../app/src/catalog/table-schemas';
import { QueryWorkgroup } from './athena';
import { BucketSecurityAspect } from './bucket-security-aspect';
import { LakehouseCatalog } from './catalog';
import { ChunkStateMachine } from './chunk-state-machine';
import { ImageConstruct } from './image';
import { IngestionConstruct } from './ingestion';
import { AlarmTopic } from './monitoring/alarm-topic';
import { PipelineAlarms } from './monitoring/alarms';
import { PipelineDashboard } from './monitoring/dashboard';
import { ScheduledReconciliation } from './reconciliation';
import { StorageConstruct } from './storage';
import { StackVariables } from './variables';

export const STACK_NAME = 'lakehouse';
export const DEFAULT_TAGS = { project: 'lakehouse-etl', 'managed-by': 'cdktf' };

/** Where Terraform keeps state: a local file (default), or an S3 bucket shared by a team. */
export type StateBackend =
  | { kind: 'local'; path: string }
  | { kind: 's3'; bucket: string; region: string; key?: string };

export const DEFAULT_STATE_KEY = 'lakehouse/terraform.tfstate';

export interface LakehouseStackProps {
  /** Absolute path of the image's Docker build context (app/). */
  imageContextDir: string;
  /** The tables each dataset of transforms/ writes (describeTransformTables), declared in the Glue catalog. */
  datasetTables: DatasetTables[];
  state?: StateBackend;
}

/** The whole deployment: storage, image, functions and permissions, alarms and dashboard, composed. */
export class LakehouseStack extends TerraformStack {
  readonly vars: StackVariables;
  readonly storage: StorageConstruct;
  readonly image: ImageConstruct;
  readonly ingestion: IngestionConstruct;
  readonly alarmTopic: AlarmTopic;
  readonly alarms: PipelineAlarms;
  readonly dashboard: PipelineDashboard;
  readonly catalog: LakehouseCatalog;
  readonly reconciliation: ScheduledReconciliation;
  readonly athena: QueryWorkgroup;
  readonly chunks: ChunkStateMachine;

  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id);
    if (props.state?.kind === 'local') new LocalBackend(this, { path: props.state.path });
    if (props.state?.kind === 's3') {
      const { bucket, region, key = DEFAULT_STATE_KEY } = props.state;
      new S3Backend(this, { bucket, region, key, encrypt: true });
      // S3-native state locking (Terraform >= 1.10): no DynamoDB table needed.
      this.addOverride('terraform.backend.s3.use_lockfile', true);
    }

    this.vars = new StackVariables(this, 'variables');
    new AwsProvider(this, 'aws', {
      region: this.vars.awsRegion.stringValue,
      defaultTags: [{ tags: DEFAULT_TAGS }],
    });
    const identity = new DataAwsCallerIdentity(this, 'current');

    this.storage = new StorageConstruct(this, 'storage', {
      accountId: identity.accountId,
      bucketPrefix: this.vars.bucketPrefix.stringValue,
      forceDestroy: this.vars.forceDestroy.booleanValue,
      rawNoncurrentVersionDays: this.vars.rawNoncurrentVersionDays.numberValue,
    });
    this.image = new ImageConstruct(this, 'image', { contextDir: props.imageContextDir, vars: this.vars });
    this.ingestion = new IngestionConstruct(this, 'ingestion', {
      vars: this.vars,
      storage: this.storage,
      imageUri: this.image.imageUri,
      accountId: identity.accountId,
    });

    this.reconciliation = new ScheduledReconciliation(this, 'reconciliation', {
      vars: this.vars,
      storage: this.storage,
      imageUri: this.image.imageUri,
      ingestion: this.ingestion,
    });

    const { ingest, gold, goldQueue, failedEvents } = this.ingestion;
    const partition = new DataAwsPartition(this, 'partition').partition;
    this.catalog = new LakehouseCatalog(this, 'catalog', {
      vars: this.vars,
      storage: this.storage,
      datasets: props.datasetTables,
      partition,
      region: this.vars.awsRegion.stringValue,
      accountId: identity.accountId,
    });
    this.catalog.bindTableMaintainer(ingest);
    // Files above chunk_threshold_mb: planned by the ingestion function, run by the chunk state machine.
    this.chunks = new ChunkStateMachine(this, 'chunks', {
      vars: this.vars,
      storage: this.storage,
      imageUri: this.image.imageUri,
      goldQueue,
      // The ingestion function is named lambda_name: a name, not a reference, so no cycle through its policy.
      ingestFunctionName: this.vars.lambdaName.stringValue,
      accountId: identity.accountId,
      partition,
      region: this.vars.awsRegion.stringValue,
    });
    this.chunks.bindStarter(ingest, this.vars.chunkThresholdMb.numberValue);
    this.athena = new QueryWorkgroup(this, 'athena', { vars: this.vars, accountId: identity.accountId });

    this.alarmTopic = new AlarmTopic(this, 'alarm-topic', {
      name: `${this.vars.lambdaName.stringValue}-alarms`,
      accountId: identity.accountId,
      partition,
      email: this.vars.alarmEmail.stringValue,
    });
    const watched = {
      vars: this.vars,
      ingest,
      gold,
      goldQueue: goldQueue.queue,
      goldDeadLetterQueue: goldQueue.deadLetterQueue,
      failedEvents,
      reconcile: this.reconciliation.fn,
      chunkStateMachineArn: this.chunks.arn,
    };
    this.alarms = new PipelineAlarms(this, 'alarms', { ...watched, topicArn: this.alarmTopic.topic.arn });
    this.dashboard = new PipelineDashboard(this, 'dashboard', {
      ...watched,
      alarmArns: this.alarms.alarms.map((alarm) => alarm.arn),
    });

    Aspects.of(this).add(new BucketSecurityAspect());

    const output = (name: string, value: string, description: string) => {
      new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
    };
    for (const zone of ['raw', 'silver', 'gold'] as const) {
      output(`${zone}_bucket`, this.storage.bucket(zone).bucket, `The ${zone} bucket`);
    }
    output('function_name', ingest.functionName, `The ingestion function (${INGEST_COMMAND})`);
    output('function_arn', ingest.arn, 'ARN of the ingestion function');
    output('gold_function_name', gold.functionName, 'The gold function, fed by the gold FIFO queue');
    output('gold_function_arn', gold.arn, 'ARN of the gold function');
    output('repository_url', this.image.repository.repositoryUrl, 'The ECR repository of the function image');
    output('image_uri', this.image.imageUri, 'The deployed image, pinned by digest');
    output('gold_queue_url', goldQueue.queue.url, 'The SQS FIFO queue of gold jobs');
    output('gold_dead_letter_queue_url', goldQueue.deadLetterQueue.url, 'Gold jobs that failed 5 times');
    output('failed_events_queue_url', failedEvents.url, 'S3 events the ingestion function failed after retries');
    output('glue_database', this.catalog.database.name, 'The Glue database of the lakehouse tables');
    output('athena_workgroup', this.athena.workgroup.name, 'The Athena workgroup for querying them');
    output('athena_results_bucket', this.athena.results.bucket, 'Where that workgroup writes query results');
    const sample = props.datasetTables.find((d) => d.gold.length > 0) ?? props.datasetTables[0];
    if (sample) {
      const table = sample.gold[0] ? goldTable(sample.dataset, sample.gold[0].name) : silverTable(sample.dataset);
      output(
        'try_query',
        `aws athena start-query-execution --work-group ${this.athena.workgroup.name} --query-execution-context Database=${this.catalog.database.name} --query-string 'select * from ${table} limit 10'`,
        'Query a table with Athena, then: aws athena get-query-results --query-execution-id <QueryExecutionId>',
      );
    }
    output(
      'chunk_state_machine_arn',
      this.chunks.arn,
      'The Step Functions state machine that runs files above chunk_threshold_mb in chunks',
    );
    output('alarm_topic_arn', this.alarmTopic.topic.arn, 'The SNS topic every alarm notifies (subscribe to it)');
    const region = this.vars.awsRegion.stringValue;
    output(
      'dashboard_url',
      `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboard.dashboard.dashboardName}`,
      'The CloudWatch dashboard of the pipeline',
    );
    output(
      'try_it',
      `aws s3 cp trips.csv s3://${this.storage.bucket('raw').bucket}/trips/trips.csv && aws logs tail /aws/lambda/${ingest.functionName} --follow`,
      'Upload a file to raw and follow the ingestion logs',
    );
  }
}
