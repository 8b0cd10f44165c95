/**
 * Jest global setup: builds the image's build context (app/dist) once, before
 * any test file runs. Infra tests hash it (the image tag) and `pnpm synth:hcl`
 * rebuilds it; built first, every later build finds it unchanged and leaves it.
 */
import { buildBundle } from '../../../app/scripts/build';

export default function buildImageContext(): void {
  buildBundle();
}
