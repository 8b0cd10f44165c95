import { Logger } from '@aws-lambda-powertools/logger';
import { serviceName } from './config';

/** Structured JSON logs (CloudWatch on AWS, stdout locally). */
export const logger = new Logger({ serviceName: serviceName() });
