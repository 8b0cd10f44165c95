// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
import { Testing } from 'cdktf';
import { type Json, type Synthesized, single, synthLakehouse } from './support/synth';

Testing.setupJest();

describe('variables and outputs', () => {
  let s: Synthesized;
  let variables: Json;
  let outputs: Json;
  beforeAll(() => {
    s = synthLakehouse();
    variables = s.json.variable;
    outputs = s.json.output;
  });

  it('keeps the original variables, names and defaults', () => {
    expect(variables.aws_region).toMatchObject({ type: 'string', default: 'us-east-1' });
    expect(variables.lambda_name).toMatchObject({ type: 'string', default: 'duckdb_ingestion' });
  });

  it.each([
    ['bucket_prefix', 'string', ''],
    ['architecture', 'string', 'x86_64'],
    ['memory_size', 'number', 2048],
    ['timeout', 'number', 300],
    ['ephemeral_storage_size', 'number', 2048],
    ['gold_timeout', 'number', 120],
    ['log_retention_days', 'number', 14],
    ['force_destroy', 'bool', false],
    ['ecr_keep_images', 'number', 10],
    ['raw_noncurrent_version_days', 'number', 90],
    ['subnet_ids', 'list(string)', []],
    ['security_group_ids', 'list(string)', []],
    ['reserved_concurrency', 'number', -1],
    ['gold_reserved_concurrency', 'number', -1],
    ['tracing_mode', 'string', 'Active'],
    ['alarm_email', 'string', ''],
    ['gold_lag_alarm_seconds', 'number', 1800],
  ])('declares %s (%s, default %j)', (name, type, defaultValue) => {
    expect(variables[name]).toMatchObject({ type, default: defaultValue });
  });

  it('describes every variable', () => {
    for (const [name, variable] of Object.entries(variables)) {
      expect([name, typeof variable.description]).toEqual([name, 'string']);
      expect(variable.description.length).toBeGreaterThan(15);
    }
  });

  it('validates the values Lambda would reject', () => {
    const conditions = (name: string) => (variables[name].validation as Json[]).map((v) => v.condition);
    expect(conditions('architecture')).toEqual(['${contains(["x86_64", "arm64"], var.architecture)}']);
    // DuckDB gets half the memory: below 1 GB it has too little for its buffers.
    expect(conditions('memory_size')).toEqual(['${var.memory_size >= 1024 && var.memory_size <= 10240}']);
    expect(conditions('raw_noncurrent_version_days')).toEqual(['${var.raw_noncurrent_version_days >= 1}']);
    expect(conditions('timeout')).toEqual(['${var.timeout >= 1 && var.timeout <= 900}']);
    expect(conditions('tracing_mode')).toEqual(['${contains(["Active", "PassThrough"], var.tracing_mode)}']);
    expect(conditions('alarm_email')).toEqual([
      '${var.alarm_email == "" || can(regex("^[^@ ]+@[^@ ]+$", var.alarm_email))}',
    ]);
    expect(conditions('gold_lag_alarm_seconds')).toEqual(['${var.gold_lag_alarm_seconds >= 60}']);
    expect(conditions('ephemeral_storage_size')).toEqual([
      '${var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240}',
    ]);
  });

  it('outputs the bucket names', () => {
    for (const zone of ['raw', 'silver', 'gold']) {
      expect(outputs[`${zone}_bucket`].value).toBe(single(s.json, 'aws_s3_bucket', `storage_${zone}_`).ref('bucket'));
    }
  });

  it('outputs the function name and ARN, and the repository URL', () => {
    const fn = single(s.json, 'aws_lambda_function', 'ingestion_ingest_function');
    expect(outputs.function_name.value).toBe(fn.ref('function_name'));
    expect(outputs.function_arn.value).toBe(fn.ref('arn'));
    expect(outputs.repository_url.value).toBe(single(s.json, 'aws_ecr_repository', 'image_').ref('repository_url'));
  });

  it('outputs the aws s3 cp command to try it', () => {
    const raw = single(s.json, 'aws_s3_bucket', 'storage_raw_').ref('bucket');
    expect(outputs.try_it.value).toContain(`aws s3 cp trips.csv s3://${raw}/trips/trips.csv`);
    expect(outputs.try_it.value).toContain('aws logs tail /aws/lambda/');
  });

  it('describes every output', () => {
    for (const output of Object.values(outputs)) expect(output.description).toEqual(expect.any(String));
  });
});
