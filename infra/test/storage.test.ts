// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { ZONES } from '@lakehouse/contract';
import { Testing } from 'cdktf';
import { CHUNK_PARTS_DAYS } from '../src/storage';
import { all, type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('StorageConstruct', () => {
  let s: Synthesized;
  let account: string;
  beforeAll(() => {
    s = synthLakehouse();
    account = single(s.json, 'aws_caller_identity', 'current', 'data').ref('account_id');
  });

  const bucket = (zone: string) => single(s.json, 'aws_s3_bucket', `storage_${zone}_`);
  const targeting = (type: string, zone: string) =>
    all(s.json, type).filter((r) => r.bucket === bucket(zone).ref('id'));

  describe.each(ZONES)('the %s bucket', (zone) => {
    it('is named <prefix><zone>-<account_id> and honours force_destroy', () => {
      expect(bucket(zone).config).toMatchObject({
        bucket: `\${var.bucket_prefix}${zone}-${account}`,
        force_destroy: '${var.force_destroy}',
      });
      expect(s.synth).toHaveResourceWithProperties(S3Bucket, { bucket: `\${var.bucket_prefix}${zone}-${account}` });
    });

    it('is encrypted at rest', () => {
      expect(s.synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
        bucket: bucket(zone).ref('id'),
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }],
      });
    });

    it('blocks every kind of public access', () => {
      expect(s.synth).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
        bucket: bucket(zone).ref('id'),
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    });

    it('disables ACLs (bucket owner enforced)', () => {
      expect(s.synth).toHaveResourceWithProperties(S3BucketOwnershipControls, {
        bucket: bucket(zone).ref('id'),
        rule: { object_ownership: 'BucketOwnerEnforced' },
      });
    });

    it('denies every request not made over TLS, on the bucket and its objects', () => {
      const [policy] = targeting('aws_s3_bucket_policy', zone);
      const document = JSON.parse(policy?.policy) as Json;
      expect(document.Statement).toEqual([
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [bucket(zone).ref('arn'), `${bucket(zone).ref('arn')}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]);
      // Applied after the public-access block: S3 rejects concurrent configuration changes.
      expect(policy?.depends_on).toEqual([
        single(s.json, 'aws_s3_bucket_public_access_block', `storage_${zone}-`).address,
      ]);
    });

    it('aborts incomplete multipart uploads', () => {
      const [lifecycle] = targeting('aws_s3_bucket_lifecycle_configuration', zone);
      expect(lifecycle?.rule[0]).toEqual({
        id: 'abort-incomplete-multipart-uploads',
        status: 'Enabled',
        filter: [{}],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      });
    });
  });

  it('expires the versions raw no longer serves after raw_noncurrent_version_days, once versioning is on', () => {
    const [raw] = targeting('aws_s3_bucket_lifecycle_configuration', 'raw');
    expect(raw?.rule[1]).toEqual({
      id: 'expire-noncurrent-versions',
      status: 'Enabled',
      filter: [{}],
      noncurrent_version_expiration: [{ noncurrent_days: '${var.raw_noncurrent_version_days}' }],
    });
    expect(raw?.depends_on).toEqual([single(s.json, 'aws_s3_bucket_versioning', 'storage_raw-').address]);
    expect(targeting('aws_s3_bucket_lifecycle_configuration', 'gold')[0]?.rule).toHaveLength(1);
  });

  it('expires what files in chunks leave under silver/_chunks/ after the redrive window, and nothing else of silver', () => {
    const rules = targeting('aws_s3_bucket_lifecycle_configuration', 'silver')[0]?.rule as Json[];
    expect(rules).toHaveLength(2);
    expect(rules[1]).toEqual({
      id: 'expire-chunks',
      status: 'Enabled',
      filter: [{ prefix: '_chunks/' }],
      expiration: [{ days: CHUNK_PARTS_DAYS }],
    });
    expect(CHUNK_PARTS_DAYS).toBeGreaterThan(14);
  });

  it('versions raw, so raw data is never lost, and only raw', () => {
    const versioning = all(s.json, 'aws_s3_bucket_versioning');
    expect(versioning).toEqual([{ bucket: bucket('raw').ref('id'), versioning_configuration: { status: 'Enabled' } }]);
  });

  it('reads the account id from aws_caller_identity', () => {
    expect(s.json.data.aws_caller_identity).toEqual({ current: {} });
  });
});
