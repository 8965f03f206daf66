import { main } from '../../lib/cli/main.ts';

/** Runs the CLI in process with captured output. */
export function cli(stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    readStdin: () => stdin,
    env: {},
    color: false,
  };
  return { io, out, err, run: (...argv: string[]) => main(argv, io) };
}
