// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { DataAwsEcrAuthorizationToken } from '@cdktf/provider-aws/lib/data-aws-ecr-authorization-token';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import { Testing } from 'cdktf';
import { hashBuildContext } from '../src/content-hash';
import { APP_DIR, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('ImageConstruct', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLakehouse();
  });
  const repository = () => single(s.json, 'aws_ecr_repository', 'image_repository');
  const image = () => single(s.json, 'docker_image', 'image_');
  const platform = '${(var.architecture == "arm64") ? "linux/arm64" : "linux/amd64"}';

  describe('the ECR repository', () => {
    it('keeps the original name, scans on push, and takes a tag again so that rollbacks and re-applies converge', () => {
      expect(s.synth).toHaveResourceWithProperties(EcrRepository, {
        name: 'lambda_duckdb',
        // A redeployed earlier commit or a flipped-back architecture pushes a tag that exists.
        image_tag_mutability: 'MUTABLE',
        image_scanning_configuration: { scan_on_push: true },
        force_delete: '${var.force_destroy}',
      });
    });

    it('expires all but the last ecr_keep_images images', () => {
      const lifecycle = single(s.json, 'aws_ecr_lifecycle_policy', 'image_lifecycle').config;
      expect(lifecycle.repository).toBe(repository().ref('name'));
      expect(lifecycle.policy).toMatch(/^\$\{jsonencode\(/);
      expect(lifecycle.policy).toContain('"countType" = "imageCountMoreThan"');
      expect(lifecycle.policy).toContain('"countNumber" = var.ecr_keep_images');
      expect(lifecycle.policy).toContain('"action" = {"type" = "expire"}');
    });
  });

  describe('the image build', () => {
    it('builds app/Dockerfile for the platform matching the Lambda architecture', () => {
      expect(image().config.build).toMatchObject({ context: APP_DIR, dockerfile: 'Dockerfile', platform });
      expect(image().config.platform).toBe(platform);
    });

    it('builds through the Engine API, not buildx, so the push is one manifest (Lambda rejects an index)', () => {
      // No buildx `builder` (it could attach provenance attestations); no `version`, which the
      // provider overrides on the Engine API path (BuildKit from API 1.39 on).
      expect(image().config.build.builder).toBeUndefined();
      expect(image().config.build.version).toBeUndefined();
    });

    it('pins kreuzwerker/docker at 3.6.x, the provider whose build paths the two tests above rely on', () => {
      expect(s.json.terraform.required_providers.docker).toEqual({ source: 'kreuzwerker/docker', version: '3.6.2' });
    });

    it('labels the image with its revision through `labels`, the attribute the Engine API path reads', () => {
      expect(image().config.build.labels).toEqual({ 'org.opencontainers.image.revision': hashBuildContext(APP_DIR) });
      expect(image().config.build.label).toBeUndefined();
    });

    it('is tagged <content hash of the build context>-<architecture> in the repository', () => {
      const hash = hashBuildContext(APP_DIR);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(image().config.name).toBe(`${repository().ref('repository_url')}:${hash}-\${var.architecture}`);
      expect(image().config.triggers).toEqual({ content_hash: hash });
    });

    it('is pushed with docker_registry_image, kept remotely for functions still on an older digest', () => {
      expect(s.synth).toHaveResourceWithProperties(RegistryImage, {
        name: image().ref('name'),
        keep_remotely: true,
      });
    });

    it('authenticates to ECR with aws_ecr_authorization_token', () => {
      const token = single(s.json, 'aws_ecr_authorization_token', 'image_registry-token', 'data');
      expect(s.synth).toHaveDataSourceWithProperties(DataAwsEcrAuthorizationToken, {
        registry_id: repository().ref('registry_id'),
      });
      expect(s.synth).toHaveProviderWithProperties(DockerProvider, {
        registry_auth: [
          {
            address: `\${replace(${token.address}.proxy_endpoint, "https://", "")}`,
            username: token.ref('user_name'),
            password: token.ref('password'),
          },
        ],
      });
    });
  });
});
