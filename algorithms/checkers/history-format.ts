import type { Operation } from './linearizability.ts';
import { parseEtcdLog, parseKvLog } from './jepsen-format.ts';

/**
 * Reads a client history in any of the formats `dsrun check` takes (docs/checkers.md), and
 * validates it: bad input is refused with the line (or the array element) and the field at fault.
 * - JSON lines: one operation a line, `{"client":1,"input":{"f":"write","value":3},"call":0,"ret":2}`;
 * - a JSON array of the same operations;
 * - Jepsen's etcd logs (`INFO  jepsen.util - 3\t:invoke\t:write\t4`), for the register model;
 * - Knossos/Porcupine key-value histories (`{:process 0, :type :invoke, :f :get, :key "1", :value nil}`),
 *   for the kv model.
 */

export type HistoryModel = 'register' | 'kv';

/** Input that is not a history: the message names where and what. */
export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

export type HistoryFormat = 'json-lines' | 'json-array' | 'jepsen-etcd' | 'porcupine-kv';

export function detectFormat(text: string): HistoryFormat {
  const first =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (first.startsWith('[')) return 'json-array';
  if (/^\{\s*"/.test(first) || first === '{}') return 'json-lines';
  if (first.startsWith('{:')) return 'porcupine-kv';
  return 'jepsen-etcd';
}

export function parseHistory(text: string, model: HistoryModel): { format: HistoryFormat; ops: Operation<unknown, unknown>[] } {
  const format = detectFormat(text);
  if (format === 'porcupine-kv' && model !== 'kv')
    throw new HistoryFormatError('this is a key-value history (Knossos/Porcupine lines): check it with --model kv');
  if (format === 'jepsen-etcd' && model !== 'register')
    throw new HistoryFormatError('this is not JSON nor a key-value history: a Jepsen etcd log is a register history (--model register)');
  try {
    switch (format) {
      case 'json-array':
        return { format, ops: jsonArray(text, model) };
      case 'json-lines':
        return { format, ops: jsonLines(text, model) };
      case 'porcupine-kv':
        return { format, ops: parseKvLog(text) as Operation<unknown, unknown>[] };
      case 'jepsen-etcd': {
        const ops = parseEtcdLog(text) as Operation<unknown, unknown>[];
        if (ops.length === 0 && text.trim() !== '')
          throw new HistoryFormatError(
            'no operations found: a history is JSON lines, a JSON array, a Jepsen etcd log or a Knossos/Porcupine key-value history (docs/checkers.md)',
          );
        return { format, ops };
      }
    }
  } catch (err) {
    if (err instanceof HistoryFormatError) throw err;
    throw new HistoryFormatError((err as Error).message);
  }
}

function jsonLines(text: string, model: HistoryModel): Operation<unknown, unknown>[] {
  const ops: Operation<unknown, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new HistoryFormatError(`${where}: not JSON (${(err as Error).message})`);
    }
    ops.push(operation(value, where, model));
  });
  return ops;
}

function jsonArray(text: string, model: HistoryModel): Operation<unknown, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HistoryFormatError(`not a JSON array (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) throw new HistoryFormatError('not a JSON array');
  return value.map((op, i) => operation(op, `operation ${i + 1} of the array`, model));
}

const OPERATIONS: Record<HistoryModel, Record<string, Record<string, 'any' | 'string'>>> = {
  register: { read: {}, write: { value: 'any' }, cas: { from: 'any', to: 'any' } },
  kv: { get: { key: 'string' }, put: { key: 'string', value: 'string' }, append: { key: 'string', value: 'string' } },
};
/** The type of a returned operation's `output`, where the model fixes one. */
const OUTPUTS: Record<string, 'boolean' | 'string'> = { cas: 'boolean', get: 'string' };

const shown = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One operation of a JSON history, checked field by field. */
function operation(value: unknown, where: string, model: HistoryModel): Operation<unknown, unknown> {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new HistoryFormatError(
      got === undefined
        ? `${where}: field "${field}" is missing (${want})`
        : `${where}: field "${field}" must be ${want}, got ${shown(got)}`,
    );
  };
  if (!isObject(value)) throw new HistoryFormatError(`${where}: an operation is a JSON object, got ${shown(value)}`);
  const { client, input, output, call, ret } = value;
  if (typeof client !== 'number' && typeof client !== 'string') bad('client', 'a number or a string', client);
  if (!isObject(input)) return bad('input', 'an object such as {"f": "read"}', input);
  const kinds = OPERATIONS[model];
  const f = input.f;
  if (typeof f !== 'string' || !(f in kinds)) bad('input.f', `one of ${Object.keys(kinds).join(', ')} (the ${model} model)`, f);
  for (const [field, type] of Object.entries(kinds[f as string])) {
    const v = input[field];
    if (v === undefined || (type === 'string' && typeof v !== 'string'))
      bad(`input.${field}`, type === 'string' ? 'a string' : 'a value', v);
  }
  if (typeof call !== 'number' || !Number.isFinite(call)) bad('call', 'a number (the invocation time)', call);
  if (ret !== undefined && ret !== null && (typeof ret !== 'number' || !Number.isFinite(ret)))
    bad('ret', 'a number (the return time), or null if it never returned', ret);
  if (typeof ret === 'number' && ret < (call as number)) bad('ret', `at least call (${call as number})`, ret);
  const returned = typeof ret === 'number';
  const outputType = OUTPUTS[f as string];
  if (returned && output !== undefined && outputType && typeof output !== outputType) bad('output', `a ${outputType}`, output);
  return {
    client: client as number | string,
    input,
    // An operation that never returned has an unknown outcome, whatever output it carries.
    output: returned ? output : undefined,
    call: call as number,
    ret: returned ? ret : Infinity,
  };
}
