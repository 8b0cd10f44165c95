import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

interface Execution {
  arn: string;
  name: string;
  input: string;
  status: Status;
}

/**
 * Step Functions on loopback for the calls the ingestion function makes
 * (there is no Step Functions emulator offline), speaking the JSON 1.0
 * protocol: StartExecution with the documented name rules (a name is taken
 * by an open execution, and by a closed one for 90 days; the same name and
 * input while it is open is the same execution) and ListExecutions by
 * status, in pages of `pageSize` (nextToken) as the real one pages them.
 */
export interface StepFunctionsServer {
  client: SFNClient;
  /** Every execution started, in order. */
  executions: Execution[];
  /** Ends an execution, as its last state would. */
  close(arn: string, status: Exclude<Status, 'RUNNING'>): void;
  stop(): Promise<void>;
}

export async function startStepFunctionsServer({ pageSize = 2 } = {}): Promise<StepFunctionsServer> {
  const executions: Execution[] = [];
  const answer = (operation: string, body: Record<string, string>): [number, object] => {
    const error = (type: string, message: string) => [400, { __type: type, message }] as [number, object];
    switch (operation) {
      case 'StartExecution': {
        const arn = `${body.stateMachineArn?.replace(':stateMachine:', ':execution:')}:${body.name}`;
        const taken = executions.find((execution) => execution.arn === arn);
        if (taken && (taken.status !== 'RUNNING' || taken.input !== body.input)) {
          return error('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
        }
        if (!taken) executions.push({ arn, name: String(body.name), input: String(body.input), status: 'RUNNING' });
        return [200, { executionArn: arn, startDate: Date.now() / 1000 }];
      }
      case 'ListExecutions': {
        const matching = executions.filter(
          (execution) =>
            execution.arn.startsWith(`${body.stateMachineArn?.replace(':stateMachine:', ':execution:')}:`) &&
            (!body.statusFilter || execution.status === body.statusFilter),
        );
        const from = Number(body.nextToken ?? 0);
        const page = matching.slice(from, from + pageSize);
        return [
          200,
          {
            executions: page.map(({ arn, name, status }) => ({ executionArn: arn, name, status, startDate: 0 })),
            ...(from + pageSize < matching.length ? { nextToken: String(from + pageSize) } : {}),
          },
        ];
      }
      default:
        return error('UnknownOperationException', operation);
    }
  };
  const server = createServer(async (request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
    const [status, payload] = answer(operation, JSON.parse((await text(request)) || '{}'));
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(payload));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const client = new SFNClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    client,
    executions,
    close(arn, status) {
      const execution = executions.find((candidate) => candidate.arn === arn);
      if (!execution) throw new Error(`no execution ${arn}`);
      execution.status = status;
    },
    stop() {
      client.destroy();
      server.closeAllConnections();
      return new Promise((stopped) => server.close(() => stopped()));
    },
  };
}

async function text(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}
