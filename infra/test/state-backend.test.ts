import { synthLakehouse } from './support/synth';

describe('state backend', () => {
  it('can keep state in S3 instead of a local file, encrypted and with S3-native locking', () => {
    const { json } = synthLakehouse({ kind: 's3', bucket: 'team-state', region: 'eu-west-1' });
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: 'team-state',
        region: 'eu-west-1',
        key: 'lakehouse/terraform.tfstate',
        encrypt: true,
        use_lockfile: true,
      },
    });
  });
});
