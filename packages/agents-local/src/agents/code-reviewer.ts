/**
 * senior-backend-developer and senior-frontend-developer: a scored static review of the files a
 * change touches (source/review.ts). Tasks: code_review (the complete pipeline's validation) and
 * backend_review / frontend_review (the code-quality flow's router).
 */
import { reviewChanges } from '../source/review.js';
import { changeOf, json, type Handler } from './common.js';

const review: Handler = async (inputs) => {
  const change = changeOf(inputs);
  const result = reviewChanges(change.changes, change.files);
  const majors = result.findings.filter((f) => f.severity === 'major').length;
  // One field for the gates, the rest under `review`: a parallel node merges its agents' outputs.
  return {
    code_quality_score: result.code_quality_score,
    review: {
      commit: change.commit.id,
      base: change.base,
      files_reviewed: result.files_reviewed,
      files_skipped: result.files_skipped,
      findings: json(result.findings),
      summary: `${result.files_reviewed.length} changed file(s) of ${change.commit.id} reviewed against ${change.base ?? 'nothing'}: ${result.findings.length} finding(s), ${majors} major; score ${result.code_quality_score}/10`,
    },
  };
};

export default { code_review: review, backend_review: review, frontend_review: review };
