import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Runs a state machine definition the way Step Functions runs the subset the
 * chunk state machine uses: Task states invoking a Lambda function (its
 * `Payload` template resolved against the state's input, the function's
 * answer as `{ Payload }`, its error as Lambda reports it: `Error` is the
 * error's name, `Cause` a JSON of `errorType` and `errorMessage`), Retry
 * (ErrorEquals, MaxAttempts; no waits) and Catch with ResultPath,
 * ResultSelector and OutputPath, Fail states, and a Distributed Map whose
 * ItemReader reads a JSON array from S3, with ItemSelector and
 * MaxConcurrency. Every payload goes through JSON, as it does on AWS.
 */
// biome-ignore lint/suspicious/noExplicitAny: Amazon States Language documents are untyped JSON
type Json = any;

export class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
  }
}

export interface Invocation {
  functionName: string;
  payload: Json;
}

export interface StateMachineRun {
  output: Json;
  /** Every Lambda invocation, in order of start. */
  invocations: Invocation[];
}

export async function runStateMachine(
  definition: Json,
  input: Json,
  deps: { s3: S3Client; invoke: (payload: Json) => Promise<unknown> },
): Promise<StateMachineRun> {
  const invocations: Invocation[] = [];
  const lambda = async (functionName: string, payload: Json) => {
    invocations.push({ functionName, payload });
    try {
      return { Payload: roundTrip(await deps.invoke(roundTrip(payload))) };
    } catch (error) {
      const { name, message } = error as Error;
      throw new StatesError(name, JSON.stringify({ errorType: name, errorMessage: message }));
    }
  };

  const runStates = async (machine: Json, stateInput: Json, contextObject: Json): Promise<Json> => {
    let name: string = machine.StartAt;
    let data = roundTrip(stateInput);
    for (;;) {
      const state = machine.States[name];
      if (!state) throw new Error(`no state ${name}`);
      if (state.Type === 'Fail') throw new StatesError(state.Error, state.Cause);
      let result: Json;
      try {
        result = await withRetries(state.Retry ?? [], () => runState(state, data, contextObject));
      } catch (error) {
        if (!(error instanceof StatesError)) throw error;
        const handler = (state.Catch ?? []).find((c: Json) => matches(c.ErrorEquals, error.error));
        if (!handler) throw error;
        data = applyResultPath(data, handler.ResultPath, { Error: error.error, Cause: error.causeText });
        name = handler.Next;
        continue;
      }
      if (state.ResultSelector) result = resolve(state.ResultSelector, result, contextObject);
      data = applyResultPath(data, state.ResultPath, result);
      if (state.OutputPath) data = path(data, state.OutputPath, contextObject);
      if (state.End) return data;
      name = state.Next;
    }
  };

  const runState = async (state: Json, data: Json, contextObject: Json): Promise<Json> => {
    if (state.Type === 'Task') {
      if (state.Resource !== 'arn:aws:states:::lambda:invoke') throw new Error(`unsupported task ${state.Resource}`);
      const parameters = resolve(state.Parameters, data, contextObject);
      return lambda(parameters.FunctionName, parameters.Payload);
    }
    if (state.Type === 'Map') return runMap(state, data);
    throw new Error(`unsupported state type ${state.Type}`);
  };

  const runMap = async (state: Json, data: Json): Promise<Json> => {
    const reader = state.ItemReader;
    if (reader.Resource !== 'arn:aws:states:::s3:getObject' || reader.ReaderConfig?.InputType !== 'JSON') {
      throw new Error('unsupported ItemReader');
    }
    const { Bucket, Key } = resolve(reader.Parameters, data, {});
    const object = await deps.s3.send(new GetObjectCommand({ Bucket, Key }));
    const items = JSON.parse((await object.Body?.transformToString()) ?? '') as Json[];
    const results: Json[] = [];
    let next = 0;
    let failure: unknown;
    // Children run at most MaxConcurrency at once; after one fails, no new one starts (the map run fails).
    const worker = async () => {
      while (!failure && next < items.length) {
        const index = next++;
        const contextObject = { Map: { Item: { Index: index, Value: items[index] } } };
        const childInput = resolve(state.ItemSelector, data, contextObject);
        try {
          results[index] = await runStates(state.ItemProcessor, childInput, contextObject);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(state.MaxConcurrency, items.length) }, worker));
    if (failure) {
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        'The specified tolerated failure threshold was exceeded',
      );
    }
    return results;
  };

  const output = await runStates(definition, input, {});
  return { output, invocations };
}

const roundTrip = (value: unknown) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

const matches = (errorEquals: string[], error: string) =>
  errorEquals.includes(error) || errorEquals.includes('States.ALL');

async function withRetries<T>(retriers: Json[], work: () => Promise<T>): Promise<T> {
  const attempts = new Map<Json, number>();
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      // The first retrier whose ErrorEquals names the error decides, as in Step Functions.
      const retrier = retriers.find((r) => matches(r.ErrorEquals, error.error));
      const used = attempts.get(retrier) ?? 0;
      if (!retrier || used >= (retrier.MaxAttempts ?? 3)) throw error;
      attempts.set(retrier, used + 1);
    }
  }
}

/** A reference path: `$.a.b` into the data, `$$.a.b` into the context object. */
function path(data: Json, reference: string, contextObject: Json): Json {
  const [root, rest] = reference.startsWith('$$') ? [contextObject, reference.slice(2)] : [data, reference.slice(1)];
  return rest
    .split('.')
    .filter(Boolean)
    .reduce((value, field) => value?.[field], root);
}

/** A Parameters-style template: fields ending in `.$` are paths, others are kept. */
function resolve(template: Json, data: Json, contextObject: Json): Json {
  if (Array.isArray(template)) return template.map((value) => resolve(value, data, contextObject));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([field, value]) =>
      field.endsWith('.$')
        ? [field.slice(0, -2), path(data, value as string, contextObject)]
        : [field, resolve(value, data, contextObject)],
    ),
  );
}

function applyResultPath(data: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return data;
  if (resultPath === undefined || resultPath === '$') return result;
  const fields = resultPath.slice(2).split('.');
  const copy = roundTrip(data);
  let target = copy;
  for (const field of fields.slice(0, -1)) target = target[field] ??= {};
  target[fields.at(-1) as string] = result;
  return copy;
}
