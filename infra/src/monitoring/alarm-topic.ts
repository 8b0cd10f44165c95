import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { jsonDocument } from '../json-document';
import { keyPolicy } from '../key-policy';

export interface AlarmTopicProps {
  name: string;
  accountId: string;
  partition: string;
  /** Subscribed by e-mail when not empty (a Terraform expression). */
  email: string;
}

/**
 * The SNS topic every alarm notifies, encrypted with a key of its own:
 * CloudWatch cannot publish to a topic under the AWS-managed SNS key, whose
 * policy cannot grant it. Only CloudWatch of this account may publish, and
 * only over TLS.
 */
export class AlarmTopic extends Construct {
  readonly topic: SnsTopic;
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': props.accountId } };
    this.key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.name} alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
      policy: keyPolicy(props, [
        {
          Sid: 'CloudWatchAlarmsEncrypt',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: fromThisAccount,
        },
      ]),
    });
    new KmsAlias(this, 'key-alias', { name: `alias/${props.name}`, targetKeyId: this.key.keyId });

    this.topic = new SnsTopic(this, 'topic', { name: props.name, kmsMasterKeyId: this.key.arn });
    new SnsTopicPolicy(this, 'policy', {
      arn: this.topic.arn,
      policy: jsonDocument({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: this.topic.arn,
            Condition: fromThisAccount,
          },
          {
            Sid: 'DenyWithoutTls',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: this.topic.arn,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    });
    new SnsTopicSubscription(this, 'email', {
      // Not `== ""`: cdktf 0.21 renders an empty-string operand as `undefined`.
      count: Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(props.email), 1), 1, 0)),
      topicArn: this.topic.arn,
      protocol: 'email',
      endpoint: props.email,
    });
  }
}
