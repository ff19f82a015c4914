import { describe, expect, it } from 'vitest';
import { ruleFindings, securityScore, severityCounts } from './security.js';

const file = (content: string) => [{ path: 'x.mjs', status: 'modified' as const, content, changedLines: [] }];

describe('the security rules', () => {
  it('find code execution, shell commands, secrets and disabled TLS checks, with their line', () => {
    const findings = ruleFindings(
      file(
        [
          'const a = eval(input);',
          'const f = new Function("return 1");',
          'exec(`ls ${dir}`);',
          "spawn('ls', [], { shell: true });",
          "const apiKey = 'sk_live_0123456789abcdef';",
          "const agent = new Agent({ rejectUnauthorized: false });",
          '// eval(x) in a comment is not code',
          'const evaluate = (x) => x; model.evaluate(1);',
        ].join('\n'),
      ),
    );
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['eval', 1],
      ['new-function', 2],
      ['shell-command', 3],
      ['spawn-shell', 4],
      ['hard-coded-secret', 5],
      ['tls-verification-off', 6],
    ]);
    expect(severityCounts(findings)).toMatchObject({ critical: 1, high: 5, total: 6 });
    expect(securityScore(findings)).toBe(0);
  });

  it('clean code has no finding and scores 10', () => {
    const findings = ruleFindings(file("export const greet = (name) => `hello ${name}`;\nconst password = process.env.PASSWORD;\n"));
    expect(findings).toEqual([]);
    expect(securityScore(findings)).toBe(10);
  });
});
