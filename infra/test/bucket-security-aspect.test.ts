import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Aspects, TerraformStack, Testing } from 'cdktf';
import type { IConstruct } from 'constructs';
import { BucketSecurityAspect } from '../src/bucket-security-aspect';
import { synthLakehouse } from './support/synth';

function errorsOf(root: IConstruct): string[] {
  return root.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === '@cdktf/error').map((m) => String(m.data)));
}

/** A stack guarded by the aspect, with whatever buckets `declare` adds. */
function guardedStack(declare: (stack: TerraformStack) => void): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'guarded');
  Aspects.of(stack).add(new BucketSecurityAspect());
  declare(stack);
  return stack;
}

const allBlocked = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};

describe('BucketSecurityAspect', () => {
  it('passes the real stack', () => {
    const { stack } = synthLakehouse();
    expect(errorsOf(stack)).toEqual([]);
  });

  it('fires on a bucket with neither encryption nor a public-access block', () => {
    const stack = guardedStack((scope) => new S3Bucket(scope, 'naked', { bucket: 'naked' }));
    Testing.synth(stack);
    const errors = errorsOf(stack);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/guarded\/naked has no server-side encryption/);
    expect(errors[1]).toMatch(/guarded\/naked has no public-access block/);
  });

  it('fires when one of the four public-access settings is off', () => {
    const stack = guardedStack((scope) => {
      const bucket = new S3Bucket(scope, 'leaky', { bucket: 'leaky' });
      new S3BucketServerSideEncryptionConfigurationA(scope, 'sse', {
        bucket: bucket.id,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
      });
      new S3BucketPublicAccessBlock(scope, 'pab', { bucket: bucket.id, ...allBlocked, restrictPublicBuckets: false });
    });
    Testing.synth(stack);
    expect(errorsOf(stack)).toEqual([expect.stringMatching(/leaky has no public-access block with all four/)]);
  });

  it('does not count a configuration that targets another bucket', () => {
    const stack = guardedStack((scope) => {
      const good = new S3Bucket(scope, 'good', { bucket: 'good' });
      new S3Bucket(scope, 'other', { bucket: 'other' });
      new S3BucketServerSideEncryptionConfigurationA(scope, 'sse', {
        bucket: good.bucket,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
      });
      new S3BucketPublicAccessBlock(scope, 'pab', { bucket: good.id, ...allBlocked });
    });
    Testing.synth(stack);
    const errors = errorsOf(stack);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toMatch(/guarded\/other has no/);
  });

  it('makes synth fail', () => {
    const stack = guardedStack((scope) => {
      new AwsProvider(scope, 'aws', { region: 'us-east-1' });
      new S3Bucket(scope, 'naked', { bucket: 'naked' });
    });
    expect(() => Testing.fullSynth(stack)).toThrow(/no server-side encryption/);
  });
});
