import { deepFreeze } from '../../core/config.ts'

/**
 * A feeder's rows, held once per process in shared memory so that worker
 * threads read the parent's copy instead of their own: each row as JSON text,
 * back to back, decoded when it is taken (as k6's SharedArray does).
 */
export interface SharedTable {
  /** The rows' JSON texts in UTF-8, back to back, over a SharedArrayBuffer. */
  readonly bytes: Uint8Array
  /** Row i is `bytes[offsets[i]]` up to `bytes[offsets[i + 1]]`; over a SharedArrayBuffer. */
  readonly offsets: Float64Array
}

const decoder = new TextDecoder()

/** `rows` in shared memory. */
export function toTable(rows: readonly object[]): SharedTable {
  const texts = rows.map((row) => Buffer.from(JSON.stringify(row)))
  const offsets = new Float64Array(new SharedArrayBuffer((texts.length + 1) * Float64Array.BYTES_PER_ELEMENT))
  for (let i = 0; i < texts.length; i++) offsets[i + 1] = offsets[i]! + texts[i]!.length
  const bytes = new Uint8Array(new SharedArrayBuffer(offsets[texts.length]!))
  for (let i = 0; i < texts.length; i++) bytes.set(texts[i]!, offsets[i])
  return { bytes, offsets }
}

/** How many rows `table` holds. */
export function rowCount(table: SharedTable): number {
  return table.offsets.length - 1
}

/** Row `i` of `table`, a fresh frozen object. */
export function rowAt<Row extends object>(table: SharedTable, i: number): Readonly<Row> {
  return deepFreeze(JSON.parse(decoder.decode(table.bytes.subarray(table.offsets[i], table.offsets[i + 1]))) as Row)
}
