import type { ErrorObject } from 'ajv';
import { describePointer, plain, showValue } from './describe.js';
import type { Finding } from './diagnostics.js';
import { joinPointer } from './json-source.js';
import { didYouMean } from './suggest.js';

type SchemaNode = { properties?: Record<string, unknown>; description?: string };

/** Turns ajv's errors into findings that a flow author can act on. */
export function schemaFindings(
  document: unknown,
  errors: readonly ErrorObject[],
  /** Names a place in the document; flows say `node "build"`, other files their own words. */
  describe: (document: unknown, pointer: string) => string = describePointer,
): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const finding = toFinding(document, error, describe);
    if (finding === undefined) continue;
    const key = `${finding.code} ${finding.pointer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function toFinding(document: unknown, error: ErrorObject, describe: (document: unknown, pointer: string) => string): Finding | undefined {
  const path = error.instancePath;
  const where = describe(document, path);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    // if/then and propertyNames restate an error reported inside them.
    case 'if':
    case 'propertyNames':
      return undefined;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      return {
        code: 'UNKNOWN_KEY',
        pointer: joinPointer(path, key),
        atKey: true,
        message: `${where}: unknown key "${key}"${didYouMean(key, allowed)}${allowed.length ? ` (allowed: ${allowed.join(', ')}, or an x- key)` : ''}`,
      };
    }
    case 'required':
      return { code: 'MISSING_KEY', pointer: path, message: `${where}: missing required key "${String(params.missingProperty)}"` };
    case 'type':
      return { code: 'WRONG_TYPE', pointer: path, message: `${where}: expected ${String(params.type).split(',').join(' or ')}, got ${showValue(error.data)}` };
    case 'enum':
      return enumFinding(path, where, error);
    default:
      break;
  }
  if (params.propertyName !== undefined) {
    const name = String(params.propertyName);
    return {
      code: 'BAD_VALUE',
      pointer: joinPointer(path, name),
      atKey: true,
      message: `${where}: the name "${name}" is not allowed: it must start with a letter or _ and hold only letters, digits and _`,
    };
  }
  const expectation = error.keyword === 'pattern' && parent.description ? parent.description : (error.message ?? 'is invalid');
  return { code: 'BAD_VALUE', pointer: path, message: `${where}: ${expectation}, got ${showValue(error.data)}` };
}

function enumFinding(path: string, where: string, error: ErrorObject): Finding {
  const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
  const got = plain(error.data);
  const list = allowed.map((v) => `"${v}"`).join(', ');
  if (/\/type$/.test(path) && /^\/nodes\/\d+(\/compensate)?\/type$/.test(path)) {
    return { code: 'UNKNOWN_NODE_TYPE', pointer: path, message: `${where}: unknown node type ${showValue(error.data)}${didYouMean(got, allowed)}; the types are ${list}` };
  }
  if (/\/conditions\/\d+\/operator$/.test(path)) {
    return { code: 'BAD_OPERATOR', pointer: path, message: `${where}: unknown operator ${showValue(error.data)}${didYouMean(got, allowed)}; the operators are ${list}` };
  }
  return { code: 'BAD_VALUE', pointer: path, message: `${where}: expected one of ${list}, got ${showValue(error.data)}` };
}
