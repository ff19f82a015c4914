/**
 * semgrep-security-analyzer: the pack's security rules over the changed files, plus semgrep when
 * it is installed. `security_vulnerabilities` counts every finding of either; a semgrep that did
 * not run is listed under `tools` with its reason.
 */
import { checkout } from '../source/repository.js';
import { ruleFindings, securityScore, semgrepFindings, severityCounts } from '../source/security.js';
import { changeOf, json, type Handler } from './common.js';

const scan: Handler = async (inputs, _task, signal) => {
  const change = changeOf(inputs);
  const scanned = change.changes.filter((c) => c.status !== 'removed').map((c) => c.path);
  const own = ruleFindings(change.changes);
  const semgrep = await semgrepFindings(checkout(change.repo, change.commit).dir, scanned, signal);
  const findings = [...own, ...semgrep.findings];
  const counts = severityCounts(findings);
  return {
    security_vulnerabilities: findings.length,
    security_score: securityScore(findings),
    security: {
      vulnerabilities: counts,
      findings: json(findings),
      files_scanned: scanned,
      commit: change.commit.id,
      tools: [{ tool: 'gantry-rules', status: 'ran', reason: `${own.length} finding(s) from ${scanned.length} changed file(s)` }, json(semgrep.status)],
    },
  };
};

export default { security_scan: scan, comprehensive_security_scan: scan };
