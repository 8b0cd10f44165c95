/**
 * The CDKTF app (cdktf.json at the repo root runs it): bundles the handler
 * into app/dist, then synthesizes the stack, whose image tag is the content
 * hash of that build context. Needs neither Terraform nor Docker.
 */
import { join, resolve } from 'node:path';
import { App } from 'cdktf';
import { buildBundle } from '../../app/scripts/build';
import { describeTransformTables } from './dataset-tables';
import { LakehouseStack, STACK_NAME, type StateBackend } from './lakehouse-stack';

const repoRoot = resolve(__dirname, '..', '..');
const imageContextDir = join(repoRoot, 'app');

buildBundle(join(imageContextDir, 'dist'));

// State stays in a local file unless LAKEHOUSE_STATE_BUCKET names an (existing, versioned) S3 bucket.
const stateBucket = process.env.LAKEHOUSE_STATE_BUCKET?.trim();
const state: StateBackend = stateBucket
  ? { kind: 's3', bucket: stateBucket, region: process.env.LAKEHOUSE_STATE_REGION?.trim() || 'us-east-1' }
  : { kind: 'local', path: join(repoRoot, `terraform.${STACK_NAME}.tfstate`) };

const app = new App();
new LakehouseStack(app, STACK_NAME, {
  imageContextDir,
  datasetTables: describeTransformTables(imageContextDir),
  state,
});
app.synth();
