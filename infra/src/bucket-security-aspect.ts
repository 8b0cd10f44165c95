import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Annotations, DefaultTokenResolver, type IAspect, StringConcat, TerraformStack, Tokenization } from 'cdktf';
import type { IConstruct } from 'constructs';

/**
 * Policy as code: synth fails when any bucket in the stack, whoever declares
 * it, lacks server-side encryption or a public-access block with all four
 * settings on.
 */
export class BucketSecurityAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof S3Bucket)) return;
    const stack = TerraformStack.of(node);
    const resolver = new DefaultTokenResolver(new StringConcat());
    const resolve = (value: string) => String(Tokenization.resolve(value, { scope: stack, resolver }));
    // A configuration targets the bucket through its id or its name (both resolve to references).
    const references = new Set([resolve(node.id), resolve(node.bucket)]);
    const targetsBucket = (bucketRef: string) => references.has(resolve(bucketRef));
    const all = stack.node.findAll();

    const encrypted = all.some(
      (c) => c instanceof S3BucketServerSideEncryptionConfigurationA && targetsBucket(c.bucketInput ?? ''),
    );
    if (!encrypted) {
      Annotations.of(node).addError(
        `Bucket ${node.node.path} has no server-side encryption (aws_s3_bucket_server_side_encryption_configuration)`,
      );
    }

    const blocked = all.some(
      (c) =>
        c instanceof S3BucketPublicAccessBlock &&
        targetsBucket(c.bucketInput ?? '') &&
        [c.blockPublicAclsInput, c.blockPublicPolicyInput, c.ignorePublicAclsInput, c.restrictPublicBucketsInput].every(
          (setting) => setting === true,
        ),
    );
    if (!blocked) {
      Annotations.of(node).addError(
        `Bucket ${node.node.path} has no public-access block with all four settings true (aws_s3_bucket_public_access_block)`,
      );
    }
  }
}
