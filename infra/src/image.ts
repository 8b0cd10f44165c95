import { DataAwsEcrAuthorizationToken } from '@cdktf/provider-aws/lib/data-aws-ecr-authorization-token';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { hashBuildContext } from './content-hash';
import type { StackVariables } from './variables';

export const REPOSITORY_NAME = 'lambda_duckdb';

export interface ImageProps {
  /** Absolute path of the Docker build context (app/); the Dockerfile sits at its root. */
  contextDir: string;
  vars: StackVariables;
}

/**
 * The ECR repository and the function image, built and pushed by the Docker
 * provider at deploy time. The tag is the content hash of the build context
 * (computed at synth) plus the architecture: any input change gives a new
 * tag, and an unchanged context plans no build at all. The functions run the
 * pushed digest, never a tag.
 */
export class ImageConstruct extends Construct {
  readonly repository: EcrRepository;
  readonly image: Image;
  readonly registryImage: RegistryImage;
  readonly contentHash: string;

  constructor(scope: Construct, id: string, props: ImageProps) {
    super(scope, id);
    const { vars } = props;
    this.contentHash = hashBuildContext(props.contextDir);

    this.repository = new EcrRepository(this, 'repository', {
      name: REPOSITORY_NAME,
      // Tags may be pushed again, so every deploy converges: redeploying an earlier commit, flipping the
      // architecture back, or re-applying after an apply cut short after its push all push a tag that
      // exists (IMMUTABLE would fail them with ImageTagAlreadyExistsException). What runs stays immutable:
      // the functions are pinned by digest.
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'AES256' }],
      forceDelete: vars.forceDestroy.booleanValue,
    });
    new EcrLifecyclePolicy(this, 'lifecycle', {
      repository: this.repository.name,
      policy: Fn.jsonencode({
        rules: [
          {
            rulePriority: 1,
            description: 'Keep the most recent images; the function pins one of them by digest',
            selection: {
              tagStatus: 'any',
              countType: 'imageCountMoreThan',
              countNumber: vars.ecrKeepImages.numberValue,
            },
            action: { type: 'expire' },
          },
        ],
      }),
    });

    const token = new DataAwsEcrAuthorizationToken(this, 'registry-token', {
      registryId: this.repository.registryId,
    });
    new DockerProvider(this, 'docker', {
      registryAuth: [
        {
          address: Fn.replace(token.proxyEndpoint, 'https://', ''),
          username: token.userName,
          password: token.password,
        },
      ],
    });

    const tag = `${this.contentHash}-${vars.architecture.stringValue}`;
    this.image = new Image(this, 'image', {
      name: `${this.repository.repositoryUrl}:${tag}`,
      platform: vars.dockerPlatform,
      buildAttribute: {
        context: props.contextDir,
        dockerfile: 'Dockerfile',
        platform: vars.dockerPlatform,
        // kreuzwerker/docker 3.6.x: with no `builder` the provider builds through the Engine API
        // (BuildKit when the engine's API is >= 1.39, else the classic builder), whatever `version`
        // says, so we set none. That path adds no provenance attestation: one platform is built and
        // pushed as a single image manifest, which Lambda requires (it rejects an image index). A
        // buildx `builder` could attach attestations, so we set none. That path reads `labels`;
        // `label` is read only by the buildx path.
        labels: { 'org.opencontainers.image.revision': this.contentHash },
      },
      triggers: { content_hash: this.contentHash },
      keepLocally: false,
    });
    this.registryImage = new RegistryImage(this, 'pushed', {
      name: this.image.name,
      // Functions may still run an older digest while an update rolls out; the lifecycle policy prunes.
      keepRemotely: true,
      triggers: { content_hash: this.contentHash },
    });
  }

  /** The pushed image by digest: a deploy with a new image always updates the functions. */
  get imageUri(): string {
    return `${this.repository.repositoryUrl}@${this.registryImage.sha256Digest}`;
  }
}
