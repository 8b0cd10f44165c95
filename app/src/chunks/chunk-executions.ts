import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sourceId } from '@lakehouse/contract';
import type { ChunkContext } from './phases/context';
import type { PlannedFile } from './phases/plan';

/** Where a planned file's chunks run on AWS: one execution of the chunk state machine per file. */
export interface ChunkExecutions {
  /** Starts the file's execution; its ARN. */
  start(planned: PlannedFile): Promise<string>;
}

/**
 * The chunk state machine's input: where its Distributed Map reads the items
 * (`$.plan.bucket`, `$.plan.key`) and what every step shares (`$.context`).
 */
export interface ChunkExecutionInput {
  plan: { bucket: string; key: string };
  context: ChunkContext;
}

export function executionInput({ plan, context }: PlannedFile): ChunkExecutionInput {
  return { plan, context };
}

/**
 * An execution name a reader can trace to its file (the id its output keys
 * carry), unique per start: a name stays taken for 90 days, and a file
 * replayed after a failed execution must start a new one.
 */
export function executionName(context: ChunkContext, now: Date): string {
  return `${sourceId(context.raw.key, context.version)}-${now.getTime().toString(36)}`;
}

export class StateMachineChunkExecutions implements ChunkExecutions {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(planned: PlannedFile): Promise<string> {
    const response = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name: executionName(planned.context, new Date()),
        input: JSON.stringify(executionInput(planned)),
      }),
    );
    if (!response.executionArn) throw new Error('StartExecution answered without an execution ARN');
    return response.executionArn;
  }
}
