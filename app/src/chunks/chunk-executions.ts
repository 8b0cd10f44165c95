import {
  ExecutionAlreadyExists,
  paginateListExecutions,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sourceId } from '@lakehouse/contract';
import type { ChunkContext } from './phases/context';
import type { PlannedFile } from './phases/plan';

/** The execution that processes a planned file; `alreadyRunning` when an earlier start for the same version still runs. */
export interface StartedExecution {
  arn: string;
  alreadyRunning?: boolean;
}

/** Where a planned file's chunks run on AWS: one execution of the chunk state machine per file. */
export interface ChunkExecutions {
  start(planned: PlannedFile): Promise<StartedExecution>;
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
 * The first execution of a raw object version is named by the id its output
 * keys carry, so a second start for the same version (S3 delivers an event
 * at least once; a reconcile may overlap a running file) finds it.
 */
export function executionName(context: ChunkContext): string {
  return sourceId(context.raw.key, context.version);
}

/** A later execution of the same version (a replay after the first closed): the name and when, as names stay taken for 90 days. */
export function replayExecutionName(context: ChunkContext, now: Date): string {
  return `${executionName(context)}-${now.getTime().toString(36)}`;
}

/**
 * Starts executions with StartExecution. A version already being processed
 * is not started twice: its first execution's name is taken
 * (ExecutionAlreadyExists), so the running executions are listed, and one
 * for this version (its first or a replay) is the answer; when none runs,
 * the file is being replayed and gets an execution of its own. Two chunked
 * runs of one file at once would share its parts.
 */
export class StateMachineChunkExecutions implements ChunkExecutions {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(planned: PlannedFile): Promise<StartedExecution> {
    const name = executionName(planned.context);
    try {
      return { arn: await this.startNamed(name, planned) };
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
    const running = await this.runningExecution(name);
    if (running) return { arn: running, alreadyRunning: true };
    return { arn: await this.startNamed(replayExecutionName(planned.context, this.now()), planned) };
  }

  /** The ARN of a running execution of the version whose first execution is `name`. */
  private async runningExecution(name: string): Promise<string | undefined> {
    const pages = paginateListExecutions(
      { client: this.sfn },
      { stateMachineArn: this.stateMachineArn, statusFilter: 'RUNNING' },
    );
    for await (const page of pages) {
      const found = page.executions?.find(
        (execution) => execution.name === name || execution.name?.startsWith(`${name}-`),
      );
      if (found?.executionArn) return found.executionArn;
    }
    return undefined;
  }

  private async startNamed(name: string, planned: PlannedFile): Promise<string> {
    const response = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(executionInput(planned)),
      }),
    );
    if (!response.executionArn) throw new Error('StartExecution answered without an execution ARN');
    return response.executionArn;
  }
}
