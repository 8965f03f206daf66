/**
 * Reads a topology file from disk and validates it. The only topology code that does I/O; the
 * rules live in lib/core/topology/validate.ts.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TopologyError } from '../core/errors.ts';
import type { Topology } from '../core/topology/types.ts';
import { validateTopology } from '../core/topology/validate.ts';

/** topology/default.json at the repository root. */
export const DEFAULT_TOPOLOGY_PATH = fileURLToPath(new URL('../../topology/default.json', import.meta.url));

/** The parsed JSON of a topology file; a missing file or bad JSON is a TopologyError on `(file)`. */
export function readTopologyJson(path: string = DEFAULT_TOPOLOGY_PATH): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(error);
    throw new TopologyError([{ field: '(file)', reason: `cannot read ${path}: ${why}` }]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message carries the position: "... in JSON at position 42 (line 3 column 5)".
    throw new TopologyError([
      { field: '(file)', reason: `${path} is not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

/** Reads, parses and validates a topology file (default: topology/default.json). */
export function loadTopologyFile(path: string = DEFAULT_TOPOLOGY_PATH): Topology {
  return validateTopology(readTopologyJson(path));
}
