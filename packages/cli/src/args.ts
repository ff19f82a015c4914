import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GantryError } from '@gantry/engine/validation';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A usage error for `command`; `gantry` prints it with a pointer to the command's help. */
export function usageError(command: string, message: string): GantryError {
  return new GantryError('USAGE', `gantry ${command}: ${message}\nRun "gantry ${command} --help" for its options.`);
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/** node:util's parseArgs, strict, with its errors turned into usage errors that name the command. */
export function parseCommandArgs(command: string, argv: string[], options: Options): ParsedArgs {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw usageError(command, message);
  }
}

/**
 * Takes `--store <file | postgres://…>` (or `--store=…`) out of a command's arguments: every
 * command that opens the run store takes it, before or after its own options.
 */
export function takeStoreOption(command: string, argv: readonly string[]): { store: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let store: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    let value: string | undefined;
    if (arg === '--store') {
      value = argv[++i];
      if (value === undefined || value === '') throw usageError(command, '--store takes a SQLite file or a postgres:// URL');
    } else if (arg.startsWith('--store=')) value = arg.slice('--store='.length);
    else {
      rest.push(arg);
      continue;
    }
    if (value === '') throw usageError(command, '--store takes a SQLite file or a postgres:// URL');
    if (store !== undefined) throw usageError(command, '--store is given twice');
    store = value;
  }
  return { store, rest };
}
