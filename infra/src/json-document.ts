/**
 * A JSON document (an IAM, bucket, key or redrive policy) as a Terraform
 * string. Indented on purpose: `cdktf synth --hcl` (pnpm synth:hcl) writes a
 * multi-line string as a heredoc template, valid HCL, but leaves the quotes of
 * a one-line string that holds a reference unescaped, which is not.
 */
export function jsonDocument(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
