import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup';
import type { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { Construct } from 'constructs';
import { secureBucket } from './storage';
import type { StackVariables } from './variables';

export interface QueryWorkgroupProps {
  vars: StackVariables;
  accountId: string;
}

/**
 * An Athena workgroup for the lakehouse's tables, writing its query results
 * to a bucket of its own (encrypted, private, TLS-only, results expiring
 * after `athena_results_days`). The workgroup's settings win over a client's,
 * so results never land anywhere else.
 */
export class QueryWorkgroup extends Construct {
  readonly workgroup: AthenaWorkgroup;
  readonly results: S3Bucket;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    const { vars } = props;
    this.results = secureBucket(this, 'results', {
      name: `${vars.bucketPrefix.stringValue}athena-results-${props.accountId}`,
      forceDestroy: vars.forceDestroy.booleanValue,
      tags: { Name: 'lakehouse-athena-results' },
      expireAfterDays: vars.athenaResultsDays.numberValue,
    });
    this.workgroup = new AthenaWorkgroup(this, 'workgroup', {
      name: vars.lambdaName.stringValue,
      description: 'Queries of the lakehouse tables',
      forceDestroy: vars.forceDestroy.booleanValue,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: `s3://${this.results.bucket}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }
}
