/**
 * The security analysis of changed files: a small set of pattern rules the pack always runs
 * (each one a mistake that is a vulnerability wherever it appears), plus semgrep when it is on
 * the PATH. A tool that did not run says so; it is never counted as a clean result.
 */
import { runTool, which, type ToolStatus } from './tools.js';
import type { ChangedFile } from './repository.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface SecurityFinding {
  readonly rule: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly message: string;
  readonly source: 'gantry-rules' | 'semgrep';
}

interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly pattern: RegExp;
  readonly message: string;
}

export const RULES: readonly Rule[] = [
  { id: 'eval', severity: 'high', pattern: /(^|[^.\w])eval\s*\(/, message: 'eval() runs text as code' },
  { id: 'new-function', severity: 'high', pattern: /\bnew\s+Function\s*\(/, message: 'new Function() runs text as code' },
  { id: 'shell-command', severity: 'high', pattern: /\b(exec|execSync)\s*\(\s*(`[^`]*\$\{|[^,)]*\+)/, message: 'a shell command built from variables (command injection)' },
  { id: 'spawn-shell', severity: 'high', pattern: /\bshell\s*:\s*true\b/, message: 'a child process run through a shell' },
  {
    id: 'hard-coded-secret',
    severity: 'critical',
    pattern: /\b(password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\b["']?\s*[:=]\s*["'`][^"'`\s]{8,}["'`]/i,
    message: 'a secret written in the source',
  },
  { id: 'aws-access-key', severity: 'critical', pattern: /\bAKIA[0-9A-Z]{16}\b/, message: 'an AWS access key id' },
  { id: 'private-key', severity: 'critical', pattern: /-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/, message: 'a private key' },
  { id: 'tls-verification-off', severity: 'high', pattern: /rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED["']?\]?\s*=\s*["']?0/, message: 'TLS certificate checks switched off' },
  { id: 'inner-html', severity: 'medium', pattern: /\.innerHTML\s*=(?!=)/, message: 'HTML written from a value (cross-site scripting)' },
];

/** The pattern rules over every line of the changed files. */
export function ruleFindings(changes: readonly ChangedFile[]): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  for (const change of changes) {
    if (change.status === 'removed') continue;
    change.content.split('\n').forEach((text, i) => {
      if (/^\s*(\/\/|\*|#)/.test(text)) return;
      for (const rule of RULES) {
        if (rule.pattern.test(text)) findings.push({ rule: rule.id, severity: rule.severity, file: change.path, line: i + 1, message: rule.message, source: 'gantry-rules' });
      }
    });
  }
  return findings;
}

/**
 * semgrep over the changed files of a checkout, when it is installed. Its rules come from
 * SEMGREP_RULES (a file, folder or registry name), else `auto` (which needs the network). The
 * files come after `--`: a file named `--output=…` in the repository is a file, not an option.
 */
export async function semgrepFindings(dir: string, files: readonly string[], signal?: AbortSignal): Promise<{ status: ToolStatus; findings: SecurityFinding[] }> {
  if (which('semgrep') === undefined) return { status: { tool: 'semgrep', status: 'not_run', reason: 'semgrep is not on the PATH' }, findings: [] };
  if (files.length === 0) return { status: { tool: 'semgrep', status: 'not_run', reason: 'no changed file to scan' }, findings: [] };
  const config = process.env.SEMGREP_RULES ?? 'auto';
  const result = await runTool('semgrep', ['scan', '--json', '--quiet', '--metrics=off', '--config', config, '--', ...files], { cwd: dir, timeoutMs: 180_000, ...(signal ? { signal } : {}) });
  let parsed: { results?: { check_id: string; path: string; start?: { line?: number }; extra?: { severity?: string; message?: string } }[] };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch {
    const why = result.timedOut ? 'timed out' : `exit ${result.code}: ${result.stderr.trim().split('\n').at(-1) ?? ''}`;
    return { status: { tool: 'semgrep', status: 'failed', reason: why }, findings: [] };
  }
  const severityOf: Record<string, Severity> = { ERROR: 'high', WARNING: 'medium', INFO: 'low' };
  const findings = (parsed.results ?? []).map((r) => ({
    rule: r.check_id,
    severity: severityOf[r.extra?.severity ?? ''] ?? 'low',
    file: r.path,
    line: r.start?.line ?? 0,
    message: r.extra?.message ?? r.check_id,
    source: 'semgrep' as const,
  }));
  return { status: { tool: 'semgrep', status: 'ran', reason: `rules: ${config}` }, findings };
}

export function severityCounts(findings: readonly SecurityFinding[]): Record<Severity | 'total', number> {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, total: findings.length };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** 10 for no finding, less for each by its severity (0 at worst). */
export function securityScore(findings: readonly SecurityFinding[]): number {
  const cost: Record<Severity, number> = { critical: 4, high: 2.5, medium: 1, low: 0.25 };
  return Math.max(0, Math.round((10 - findings.reduce((sum, f) => sum + cost[f.severity], 0)) * 10) / 10);
}
