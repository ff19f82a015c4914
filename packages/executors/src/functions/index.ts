/**
 * The built-in functions of the `function` node type (DESIGN §2.2), by the names flows call
 * them. Register them with `createEngine({ functions: builtinFunctions })` or one by one.
 */
import type { FlowFunction } from '@gantry/engine';
import { aggregateReviewResults } from './aggregate-review-results.js';
import { analyzeChangedFiles } from './analyze-changed-files.js';

export { aggregateReviewResults, DEFAULT_WEIGHT_FACTORS } from './aggregate-review-results.js';
export { analyzeChangedFiles } from './analyze-changed-files.js';
export type { ChangeSource } from './analyze-changed-files.js';
export { classifyPath, FILE_CATEGORIES } from './classify-path.js';
export type { FileCategory } from './classify-path.js';
export { parseUnifiedDiff } from './unified-diff.js';
export type { DiffFile, DiffStatus } from './unified-diff.js';

/**
 * The design document's flow picks `inputs: ["files", "diff"]`, which a GitHub push or
 * pull_request payload does not have: then the node's whole input (the payload) is analysed.
 */
const analyzeWithPayload: FlowFunction = (input, params, ctx) => {
  const given = (key: string) => input[key] !== undefined && input[key] !== null;
  return analyzeChangedFiles(given('files') || given('diff') ? input : { ...ctx.nodeInput, ...input }, params, ctx);
};

/** Every built-in function, name → implementation; frozen, so registries copy rather than share. */
export const builtinFunctions: Readonly<Record<string, FlowFunction>> = Object.freeze({
  analyze_changed_files: analyzeWithPayload,
  aggregate_review_results: aggregateReviewResults,
});
