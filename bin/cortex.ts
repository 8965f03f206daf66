#!/usr/bin/env -S node --max-semi-space-size=16
// The operator CLI (`npx cortex`); `cortex local` is `npm start`.
// --max-semi-space-size=16 (MiB; package.json's start and cortex scripts pass it too): on a machine
// with much memory V8 lets the young generation grow to 128 MB, and the local plane, which allocates
// garbage all the time, kept it all resident: an idle plane's RSS was about 100 MB less with the cap,
// at the same CPU.
import { readFileSync } from 'node:fs';
import { main } from '../lib/cli/main.ts';

// `cortex ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: () => readFileSync(0, 'utf8'),
  env: process.env,
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
});
process.exitCode = code;
