/**
 * Where the CLI's text goes: process.stdout and process.stderr, unless a test captures it
 * (test/util/cliHere.ts runs the CLI in the test process). Capturing here, not by replacing
 * process.stdout.write, keeps the test runner's own reporter — which writes to the same process.stdout, at
 * any moment — out of the captured text and its lines in the report.
 */
type Sink = { out: (s: string) => void; err: (s: string) => void };

let sink: Sink | null = null;

export const out = (s: string): void => {
  if (sink) sink.out(s);
  else process.stdout.write(s);
};

export const err = (s: string): void => {
  if (sink) sink.err(s);
  else process.stderr.write(s);
};

/** The stream progress lines go to: process.stderr, or (captured) a non-TTY stream into the capture. */
export function errStream(): NodeJS.WriteStream {
  if (!sink) return process.stderr;
  const to = sink;
  return { write: (s: string) => (to.err(s), true), isTTY: false, columns: 0 } as unknown as NodeJS.WriteStream;
}

/** Send the CLI's text to `s` until the returned function is called (which restores the previous sink). */
export function captureConsole(s: Sink): () => void {
  const previous = sink;
  sink = s;
  return () => {
    sink = previous;
  };
}
