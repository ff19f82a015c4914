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
