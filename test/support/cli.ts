import { main } from '../../lib/cli/main.ts';

/** Runs the CLI in process with captured output; `env` stands in for the process environment. */
export function cli(stdin = '', env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    readStdin: () => stdin,
    env,
    color: false,
  };
  return { io, out, err, run: (...argv: string[]) => main(argv, io) };
}
