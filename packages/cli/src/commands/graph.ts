import { resolve } from 'node:path';
import { loadFlowText, subflowResolver } from '@gantry/engine/validation';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { readFlowText } from '../flow-files.js';
import type { Io } from '../io.js';
import { toDot } from '../render/dot.js';
import { toMermaid } from '../render/mermaid.js';

export const graphHelp = `Usage: gantry graph <flow> [--format mermaid|dot]

Prints the flow as a diagram: node types as shapes, edge conditions as labels, error edges
dotted. Paste Mermaid into a Markdown file; render DOT with \`dot -Tsvg\`.

Options:
  --format   mermaid (default) or dot
  -h, --help show this help

Exit status: 0, or 2 when the flow is invalid (its diagnostics go to stderr).`;

const RENDERERS = { mermaid: toMermaid, dot: toDot } as const;

export async function graphCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('graph', argv, { format: { type: 'string', short: 'f' } });
  if (positionals.length !== 1) throw usageError('graph', `name exactly one flow file, got ${positionals.length}`);
  const format = String(values.format ?? 'mermaid');
  if (!(format in RENDERERS)) throw usageError('graph', `--format must be mermaid or dot, got "${format}"`);
  const file = positionals[0]!;
  const flow = loadFlowText(readFlowText(file, io.cwd), { source: file, subflowRef: subflowResolver(resolve(io.cwd, file)) });
  io.out.write(RENDERERS[format as keyof typeof RENDERERS](flow));
  return EXIT.succeeded;
}
