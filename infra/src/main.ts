/**
 * The CDKTF app (cdktf.json at the repo root runs it): bundles the handler
 * into app/dist, then synthesizes the stack, whose image tag is the content
 * hash of that build context. Needs neither Terraform nor Docker.
 */
import { join, resolve } from 'node:path';
import { App } from 'cdktf';
import { buildBundle } from '../../app/scripts/build';
import { LakehouseStack, STACK_NAME } from './lakehouse-stack';

const repoRoot = resolve(__dirname, '..', '..');
const imageContextDir = join(repoRoot, 'app');

buildBundle(join(imageContextDir, 'dist'));

const app = new App();
new LakehouseStack(app, STACK_NAME, {
  imageContextDir,
  statePath: join(repoRoot, `terraform.${STACK_NAME}.tfstate`),
});
app.synth();
