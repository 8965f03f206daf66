/**
 * The local replication's durable state, kept like a stream: an append-only log of every captured
 * change and every delivery, written before the writer's call returns, plus a snapshot that the log
 * is compacted into. After `kill -9`, the snapshot and the log replayed over it give back every
 * queued change (in order), every tombstone and every region's clock.
 *
 * Durability: each record is handed to the kernel with one write(2) before the change is queued, so a
 * killed process loses nothing it acknowledged. Records are not fsync'ed one by one: the regional
 * stores (dynalite on LevelDB, `sync: false`) do not fsync their own writes either, so after a power
 * loss the stores would lose the same recent writes; an fsync per write would cost a disk flush on
 * every write and buy nothing the stores keep. A snapshot is fsync'ed before it replaces the previous
 * one, and the log is truncated only after that, so a crash at any point leaves a snapshot plus the
 * records after it (each record carries a sequence number; the snapshot says the last it includes).
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

interface JournalVersion {
  readonly time: number;
  readonly region: string;
}

interface JournalChange extends JournalVersion {
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  /** The item after the write; undefined for a delete. */
  readonly image: Item | undefined;
  readonly dueAt: number;
}

/** A local write captured in `region`, queued on the links to each region of `due` (due time each). */
interface CaptureRecord extends JournalVersion {
  readonly kind: 'capture';
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  readonly image?: Item;
  readonly due: Readonly<Record<string, number>>;
}

/** The head of link `from` -> `to` left its queue: applied at `to`, or older than what `to` held. */
interface DeliveryRecord extends JournalVersion {
  readonly kind: 'delivery';
  readonly from: string;
  readonly to: string;
  readonly keyId: string;
  readonly outcome: 'delivered' | 'superseded';
}

type JournalRecord = CaptureRecord | DeliveryRecord;

export interface JournalSnapshot {
  /** 1: written by a clean stop only (no log); 2: with `seq`. */
  readonly version: 1 | 2;
  /** The last log record the snapshot includes. */
  readonly seq?: number;
  readonly regions: Readonly<Record<string, { last_stamp: number; tombstones: [string, JournalVersion][] }>>;
  readonly links: readonly { from: string; to: string; queue: JournalChange[] }[];
}

export interface JournalContents {
  readonly snapshot: JournalSnapshot | undefined;
  /** The log records after the snapshot, in the order they were written. */
  readonly records: readonly JournalRecord[];
}

/** Log size at which the log is folded into a new snapshot (at least twice the last snapshot). */
const COMPACT_BYTES = 1024 * 1024;

export class ReplicationJournal {
  readonly #snapshotPath: string;
  readonly #logPath: string;
  #fd: number | undefined;
  #seq: number;
  #logBytes = 0;
  #snapshotBytes = 0;

  private constructor(snapshotPath: string, seq: number) {
    this.#snapshotPath = snapshotPath;
    this.#logPath = logPathOf(snapshotPath);
    this.#seq = seq;
  }

  /** Reads what a previous process left (snapshot and log), and opens the log for appending. */
  static open(snapshotPath: string): { journal: ReplicationJournal; contents: JournalContents } {
    mkdirSync(dirname(snapshotPath), { recursive: true });
    const snapshot = readSnapshot(snapshotPath);
    const after = snapshot?.seq ?? 0;
    const { records, last } = readLog(logPathOf(snapshotPath), after);
    const journal = new ReplicationJournal(snapshotPath, Math.max(after, last));
    journal.#fd = openSync(journal.#logPath, 'a');
    return { journal, contents: { snapshot, records } };
  }

  /** Appends one record (one write(2)); the caller queues the change only after it returns. */
  append(record: JournalRecord): void {
    if (this.#fd === undefined) throw new Error('replication journal: closed');
    this.#seq++;
    const line = `${JSON.stringify({ seq: this.#seq, ...record }, replaceBinary)}\n`;
    writeAll(this.#fd, Buffer.from(line, 'utf8'));
    this.#logBytes += Buffer.byteLength(line);
  }

  /** The log has grown enough to be folded into a snapshot. */
  get wantsCompaction(): boolean {
    return this.#logBytes >= Math.max(COMPACT_BYTES, 2 * this.#snapshotBytes);
  }

  /** Bytes on disk: the snapshot and the log. */
  get bytes(): number {
    return this.#snapshotBytes + this.#logBytes;
  }

  /** Replaces the snapshot with `state` (everything logged so far) and empties the log. */
  compact(state: Omit<JournalSnapshot, 'version' | 'seq'>): void {
    if (this.#fd === undefined) throw new Error('replication journal: closed');
    const text = JSON.stringify({ version: 2, seq: this.#seq, ...state }, replaceBinary);
    const temporary = `${this.#snapshotPath}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeAll(fd, Buffer.from(text, 'utf8'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Renamed over the old one only once on disk: a crash mid-write leaves the previous snapshot.
    renameSync(temporary, this.#snapshotPath);
    // Records up to `seq` are in the snapshot; a crash before this truncation replays none of them.
    ftruncateSync(this.#fd, 0);
    this.#logBytes = 0;
    this.#snapshotBytes = Buffer.byteLength(text);
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

export function logPathOf(snapshotPath: string): string {
  return `${snapshotPath.replace(/\.json$/, '')}.log`;
}

function readSnapshot(path: string): JournalSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let snapshot: JournalSnapshot;
  try {
    snapshot = JSON.parse(text, reviveBinary) as JournalSnapshot;
  } catch (error) {
    throw new Error(`replication: ${path} is not valid JSON (delete it or start with --fresh)`, {
      cause: error,
    });
  }
  if (snapshot.version !== 1 && snapshot.version !== 2) {
    throw new Error(`replication: unknown state version in ${path}`);
  }
  return snapshot;
}

function readLog(path: string, after: number): { records: JournalRecord[]; last: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], last: 0 };
    throw error;
  }
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  let last = 0;
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    let parsed: JournalRecord & { seq: number };
    try {
      parsed = JSON.parse(line, reviveBinary) as JournalRecord & { seq: number };
    } catch (error) {
      // Only the last line can be torn (the process died inside its write): it was never acknowledged.
      if (index >= lines.length - 2) break;
      throw new Error(`replication: ${path} line ${index + 1} is not valid JSON (start with --fresh)`, {
        cause: error,
      });
    }
    last = Math.max(last, parsed.seq);
    if (parsed.seq <= after) continue;
    const { seq: _seq, ...record } = parsed;
    records.push(record as JournalRecord);
  }
  return { records, last };
}

function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}

function replaceBinary(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $base64: Buffer.from(value).toString('base64') } : value;
}

function reviveBinary(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && typeof record.$base64 === 'string') {
      return new Uint8Array(Buffer.from(record.$base64, 'base64'));
    }
  }
  return value;
}
