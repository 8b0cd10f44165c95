import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { CHUNKS_PREFIX, ENV, ZONES, type Zone } from '@lakehouse/contract';
import type { IResolvable } from 'cdktf';
import { Construct } from 'constructs';
import { jsonDocument } from './json-document';
import type { PipelineFunction } from './pipeline-function';

export interface StorageProps {
  accountId: string;
  bucketPrefix: string;
  forceDestroy: boolean | IResolvable;
  /** Days raw keeps a version after it is overwritten or deleted. */
  rawNoncurrentVersionDays: number;
}

/** Zones whose buckets keep versions: raw, so raw data is never lost and events name exact versions. */
const VERSIONED: ReadonlySet<Zone> = new Set<Zone>(['raw']);

/** The handler's environment variable naming each output bucket (raw comes from the event). */
const BUCKET_ENV: Partial<Record<Zone, typeof ENV.silverBucket | typeof ENV.goldBucket>> = {
  silver: ENV.silverBucket,
  gold: ENV.goldBucket,
};

/**
 * Days the parts of a file processed in chunks may wait under `silver/_chunks/`: past the 14 days a
 * failed execution can be redriven. A commit or a fail step removes them at once; this catches what an
 * abandoned execution, or a chunk still running when its map failed, leaves behind.
 */
export const CHUNK_PARTS_DAYS = 15;

const capitalized = (zone: Zone) => zone.charAt(0).toUpperCase() + zone.slice(1);

/**
 * The three lakehouse buckets, <prefix><zone>-<account_id>, with secure
 * defaults baked in: SSE, all four public-access blocks, ACLs disabled,
 * TLS-only access, aborted multipart uploads cleaned up, and versioning on raw
 * so raw data is never lost. Grants are least privilege, per bucket and action.
 */
export class StorageConstruct extends Construct {
  readonly buckets: Record<Zone, S3Bucket>;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const zoneBucket = (zone: Zone) =>
      secureBucket(this, zone, {
        name: `${props.bucketPrefix}${zone}-${props.accountId}`,
        forceDestroy: props.forceDestroy,
        tags: { Name: `lakehouse-${zone}`, zone },
        // Old versions are for restoring and replaying a while, not for ever.
        noncurrentVersionDays: VERSIONED.has(zone) ? props.rawNoncurrentVersionDays : undefined,
        ...(zone === 'silver' ? { expirePrefixes: [{ prefix: `${CHUNKS_PREFIX}/`, days: CHUNK_PARTS_DAYS }] } : {}),
      });
    this.buckets = Object.fromEntries(ZONES.map((zone) => [zone, zoneBucket(zone)])) as Record<Zone, S3Bucket>;
  }

  bucket(zone: Zone): S3Bucket {
    return this.buckets[zone];
  }

  /** Read objects; in a versioned bucket, also the versions S3 events name. */
  grantRead(fn: PipelineFunction, zone: Zone): void {
    fn.grant({
      sid: `Read${capitalized(zone)}Objects`,
      actions: ['s3:GetObject', ...(VERSIONED.has(zone) ? ['s3:GetObjectVersion'] : [])],
      resources: [`${this.buckets[zone].arn}/*`],
    });
  }

  /** Write objects, by single PUT or multipart upload (lib-storage's Upload aborts its parts on failure). */
  grantWrite(fn: PipelineFunction, zone: Zone, options: { delete?: boolean } = {}): void {
    fn.grant({
      sid: `Write${capitalized(zone)}Objects`,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', ...(options.delete ? ['s3:DeleteObject'] : [])],
      resources: [`${this.buckets[zone].arn}/*`],
    });
  }

  /**
   * List the bucket. Also what makes a GET of a missing key answer 404
   * (NoSuchKey) instead of 403: the gold step relies on it for its state
   * files and to tell a silver file that is gone from one it may not read.
   */
  grantList(fn: PipelineFunction, zone: Zone): void {
    fn.grant({
      sid: `List${capitalized(zone)}Bucket`,
      actions: ['s3:ListBucket'],
      resources: [this.buckets[zone].arn],
    });
  }

  /** Name the bucket in the function's environment (SILVER_BUCKET, GOLD_BUCKET). */
  bindName(fn: PipelineFunction, zone: Zone): void {
    const env = BUCKET_ENV[zone];
    if (!env) throw new Error(`the handler takes no environment variable for the ${zone} bucket`);
    fn.addEnvironment(env, this.buckets[zone].bucket);
  }
}

export interface SecureBucketProps {
  name: string;
  forceDestroy: boolean | IResolvable;
  tags: Record<string, string>;
  /** Versioned, its noncurrent versions expiring after this many days. */
  noncurrentVersionDays?: number;
  /** Objects expire this many days after they are written (query results). */
  expireAfterDays?: number;
  /** Objects under these prefixes expire this many days after they are written (staging). */
  expirePrefixes?: Array<{ prefix: string; days: number }>;
}

/**
 * A bucket with the secure defaults every bucket of the stack has: SSE, all
 * four public-access blocks, ACLs disabled, TLS-only access, incomplete
 * multipart uploads aborted. Its resources are named `<id>`, `<id>-ownership`,
 * ... in `scope`, so their Terraform addresses stay those of the first release.
 */
export function secureBucket(scope: Construct, id: string, props: SecureBucketProps): S3Bucket {
  const bucket = new S3Bucket(scope, id, { bucket: props.name, forceDestroy: props.forceDestroy, tags: props.tags });
  new S3BucketOwnershipControls(scope, `${id}-ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: 'BucketOwnerEnforced' },
  });
  const publicAccess = new S3BucketPublicAccessBlock(scope, `${id}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketServerSideEncryptionConfigurationA(scope, `${id}-encryption`, {
    bucket: bucket.id,
    rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
  });
  new S3BucketPolicy(scope, `${id}-tls-only`, {
    bucket: bucket.id,
    policy: jsonDocument({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [bucket.arn, `${bucket.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    }),
    // S3 rejects concurrent changes to one bucket's configuration; the policy goes after the block.
    dependsOn: [publicAccess],
  });
  const { noncurrentVersionDays } = props;
  const versioning =
    noncurrentVersionDays !== undefined
      ? new S3BucketVersioningA(scope, `${id}-versioning`, {
          bucket: bucket.id,
          versioningConfiguration: { status: 'Enabled' },
        })
      : undefined;
  new S3BucketLifecycleConfiguration(scope, `${id}-lifecycle`, {
    bucket: bucket.id,
    rule: [
      {
        id: 'abort-incomplete-multipart-uploads',
        status: 'Enabled',
        filter: [{}],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
      },
      ...(versioning && noncurrentVersionDays !== undefined
        ? [
            {
              id: 'expire-noncurrent-versions',
              status: 'Enabled',
              filter: [{}],
              noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionDays }],
            },
          ]
        : []),
      ...(props.expireAfterDays !== undefined
        ? [{ id: 'expire-objects', status: 'Enabled', filter: [{}], expiration: [{ days: props.expireAfterDays }] }]
        : []),
      ...(props.expirePrefixes ?? []).map(({ prefix, days }) => ({
        id: `expire-${prefix.replace(/[^A-Za-z0-9]+/g, '')}`,
        status: 'Enabled',
        filter: [{ prefix }],
        expiration: [{ days }],
      })),
    ],
    // Lifecycle rules on noncurrent versions need versioning in place first.
    ...(versioning ? { dependsOn: [versioning] } : {}),
  });
  return bucket;
}
