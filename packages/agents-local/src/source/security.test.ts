import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleFindings, securityScore, semgrepFindings, severityCounts } from './security.js';

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

describe('semgrep', () => {
  it('gets the changed files after --, so a file named like an option stays a file', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'gantry-semgrep-'));
    const seen = join(bin, 'argv.json');
    // A stand-in semgrep that records its arguments and finds nothing.
    writeFileSync(join(bin, 'semgrep'), `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.argv.slice(2)));\nprocess.stdout.write('{"results":[]}');\n`);
    chmodSync(join(bin, 'semgrep'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${path ?? ''}`;
    try {
      const result = await semgrepFindings(bin, ['--output=/tmp/pwned', 'app.mjs']);
      expect(result.status).toMatchObject({ tool: 'semgrep', status: 'ran' });
      const argv = JSON.parse(readFileSync(seen, 'utf8')) as string[];
      expect(argv.slice(argv.indexOf('--'))).toEqual(['--', '--output=/tmp/pwned', 'app.mjs']);
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
