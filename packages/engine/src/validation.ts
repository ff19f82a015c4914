/**
 * `@gantry/engine/validation`: checking, loading and compiling flows, with the errors and
 * diagnostics, without the run-time (the scheduler, stores, the default logger). The same
 * modules as the package's main entry, for programs that only check flows and must start fast:
 * `gantry validate` loads this and nothing of the engine beside it.
 */
export { GantryError, isGantryError, ERROR_CODES } from './errors.js';
export type { ErrorCode, Issue, GantryErrorOptions } from './errors.js';
export { DIAGNOSTIC_CODES } from './diagnostic-codes.js';
export type { DiagnosticCode, Severity } from './diagnostic-codes.js';
export type { Diagnostic } from './diagnostics.js';
export { validateFlowText, validateFlowDocument } from './validate.js';
export type { ValidateOptions, ValidationResult } from './validate.js';
export { loadFlowText, loadFlowFile, compileFlow, subflowResolver, resolveFlowRef, readFailure } from './load.js';
export type { FlowRef } from './load.js';
export { validateConfigText, declaredNames } from './config.js';
export type { GantryConfig } from './config.js';
export type { ConfigPlace } from './config-checks.js';
export type { DeclaredNames } from './name-checks.js';
export type { CompiledFlow, CompiledNode, CompiledEdge, EdgeCondition, ReadonlyGraph } from './compile.js';
export { closest, didYouMean } from './suggest.js';
