import type { Operation } from './linearizability.ts';
import type { KvInput, RegisterInput } from './models.ts';

/**
 * Readers of Jepsen-style history logs. Time is the line number; an operation runs from its
 * `:invoke` line to its completion line. `:ok` completes it; `:fail` means it certainly did not take
 * effect (dropped from the history, except a failed cas, which is a cas that answered false);
 * `:info` (and a failed read that timed out) leaves its outcome unknown: it returns at the end.
 */

function complete<I, O>(
  pending: Map<string, Operation<I, O>>,
  ops: Operation<I, O>[],
  process: string,
  type: string,
  line: number,
  output: O | undefined,
  keepFailed: boolean,
): void {
  const op = pending.get(process);
  if (!op) throw new Error(`line ${line + 1}: ${type} for process ${process}, which has no invocation open`);
  pending.delete(process);
  if (type === ':ok' || (type === ':fail' && keepFailed)) ops.push({ ...op, output, ret: line });
  else if (type === ':info' || type === ':timeout') ops.push({ ...op, output: undefined, ret: Infinity });
}

const parseValue = (text: string): unknown => (text === 'nil' ? null : Number.isNaN(Number(text)) ? text : Number(text));

/** Jepsen's etcd logs: `INFO  jepsen.util - P\t:invoke\t:read\tnil` (register with read/write/cas). */
export function parseEtcdLog(text: string): Operation<RegisterInput, unknown>[] {
  const ops: Operation<RegisterInput, unknown>[] = [];
  const pending = new Map<string, Operation<RegisterInput, unknown>>();
  text.split('\n').forEach((raw, line) => {
    const fields = raw.replace(/^.*? - /, '').split('\t');
    if (fields.length < 3) return;
    const [process, type, f, value = 'nil', extra] = fields;
    if (type === ':invoke') {
      let input: RegisterInput;
      if (f === ':read') input = { f: 'read' };
      else if (f === ':write') input = { f: 'write', value: parseValue(value) };
      else if (f === ':cas') {
        const [from, to] = value.replace(/[[\]]/g, '').split(' ').map(parseValue);
        input = { f: 'cas', from, to };
      } else throw new Error(`line ${line + 1}: operation ${f} (the third field): a register log has :read, :write, :cas`);
      pending.set(process, { client: Number(process), input, output: undefined, call: line, ret: Infinity });
      return;
    }
    const op = pending.get(process);
    if (f === ':read' && type === ':fail') {
      // A read that failed (timed out) has an unknown result but no effect: keep it as unknown.
      complete(pending, ops, process, extra === ':timed-out' || value === ':timed-out' ? ':info' : ':fail', line, undefined, false);
      return;
    }
    const output = op?.input.f === 'read' ? parseValue(value) : op?.input.f === 'cas' ? type === ':ok' : undefined;
    complete(pending, ops, process, type, line, output, op?.input.f === 'cas');
  });
  for (const op of pending.values()) ops.push({ ...op, output: undefined, ret: Infinity });
  return ops;
}

/** Knossos/Porcupine key-value histories: `{:process 0, :type :invoke, :f :get, :key "1", :value nil}`. */
export function parseKvLog(text: string): Operation<KvInput, string>[] {
  const ops: Operation<KvInput, string>[] = [];
  const pending = new Map<string, Operation<KvInput, string>>();
  text.split('\n').forEach((raw, line) => {
    if (!raw.trim()) return;
    const field = (name: string): string | undefined => new RegExp(`:${name} (nil|"[^"]*"|:?[\\w-]+)`).exec(raw)?.[1];
    const required = (name: string, want: RegExp, what: string): string => {
      const v = field(name);
      if (v === undefined || !want.test(v))
        throw new Error(`line ${line + 1}: field :${name} ${v === undefined ? 'is missing' : `is ${v}`} (${what})`);
      return v;
    };
    const process = required('process', /^[\w-]+$/, 'a process id');
    const type = required('type', /^:(invoke|ok|fail|info)$/, 'one of :invoke, :ok, :fail, :info');
    const f = required('f', /^:(get|put|append)$/, 'one of :get, :put, :append').slice(1) as KvInput['f'];
    const key = JSON.parse(required('key', /^"/, 'a string')) as string;
    const rawValue = field('value');
    const value = rawValue === undefined || rawValue === 'nil' ? undefined : (JSON.parse(rawValue) as string);
    if (type === ':invoke') {
      const input: KvInput = f === 'get' ? { f, key } : { f, key, value: value ?? '' };
      pending.set(process, { client: Number(process), input, output: undefined, call: line, ret: Infinity });
    } else {
      complete(pending, ops, process, type, line, f === 'get' ? (value ?? '') : undefined, false);
    }
  });
  for (const op of pending.values()) ops.push({ ...op, output: undefined, ret: Infinity });
  return ops;
}
