import { describe, expect, it } from 'vitest';
import { classifyPath, normalizePath } from './classify-path.js';
import type { FileCategory } from './classify-path.js';

const cases: Array<[string, FileCategory]> = [
  // Tests come first, whatever the language or area.
  ['src/components/Button.test.tsx', 'test'],
  ['web/src/App.spec.ts', 'test'],
  ['pkg/server/handler_test.go', 'test'],
  ['app/tests/test_views.py', 'test'],
  ['billing/test_invoice.py', 'test'],
  ['billing/invoice_test.py', 'test'],
  ['myapp/tests.py', 'test'],
  ['src/__tests__/utils.js', 'test'],
  ['spec/models/user_spec.rb', 'test'],
  ['src/test/java/com/acme/UserServiceTest.java', 'test'],
  ['Acme.Api.Tests/OrdersControllerTests.cs', 'test'],
  ['test/e2e/app.e2e-spec.ts', 'test'],
  ['cypress/e2e/login.cy.ts', 'test'],
  ['conftest.py', 'test'],
  ['vitest.config.ts', 'test'],
  ['jest.config.js', 'test'],
  ['src/__snapshots__/Button.test.tsx.snap', 'test'],
  ['tests/fixtures/payload.json', 'test'],
  ['internal/parser/testdata/input.txt', 'test'],
  // Docs.
  ['README.md', 'docs'],
  ['docs/architecture/overview.png', 'docs'],
  ['deploy/README.md', 'docs'],
  ['CHANGELOG', 'docs'],
  ['LICENSE', 'docs'],
  ['guide/install.rst', 'docs'],
  // Infrastructure.
  ['Dockerfile', 'infrastructure'],
  ['services/api/Dockerfile.prod', 'infrastructure'],
  ['docker-compose.override.yml', 'infrastructure'],
  ['compose.yaml', 'infrastructure'],
  ['.github/workflows/ci.yml', 'infrastructure'],
  ['.github/dependabot.yml', 'infrastructure'],
  ['.gitlab-ci.yml', 'infrastructure'],
  ['Jenkinsfile', 'infrastructure'],
  ['Makefile', 'infrastructure'],
  ['infra/main.tf', 'infrastructure'],
  ['modules/vpc/variables.tf', 'infrastructure'],
  ['k8s/deployment.yaml', 'infrastructure'],
  ['deploy/helm/values-prod.yaml', 'infrastructure'],
  ['charts/api/templates/service.yaml', 'infrastructure'],
  ['.circleci/config.yml', 'infrastructure'],
  // Frontend.
  ['src/components/Button.tsx', 'frontend'],
  ['src/App.vue', 'frontend'],
  ['src/routes/+page.svelte', 'frontend'],
  ['styles/main.scss', 'frontend'],
  ['index.html', 'frontend'],
  ['frontend/src/store.ts', 'frontend'],
  ['packages/web/src/api-client.js', 'frontend'],
  ['client/package.json', 'frontend'],
  ['public/logo.svg', 'frontend'],
  ['vite.config.ts', 'frontend'],
  // Backend.
  ['app/models/user.rb', 'backend'],
  ['cmd/server/main.go', 'backend'],
  ['src/main/java/com/acme/App.java', 'backend'],
  ['src/lib.rs', 'backend'],
  ['api/handlers.py', 'backend'],
  ['src/index.ts', 'backend'],
  ['server/routes/users.js', 'backend'],
  ['backend/config/settings.json', 'backend'],
  ['migrations/0001_init.sql', 'backend'],
  ['requirements.txt', 'backend'],
  ['go.mod', 'backend'],
  ['web/views.py', 'backend'], // a backend language is backend even in a web/ directory
  // Other.
  ['package.json', 'other'],
  ['pnpm-lock.yaml', 'other'],
  ['.eslintrc.js', 'other'],
  ['.gitignore', 'other'],
  ['assets/photo.png', 'other'],
  ['config/settings.yaml', 'other'],
];

describe('classifyPath', () => {
  it.each(cases)('%s → %s', (path, category) => {
    expect(classifyPath(path)).toBe(category);
  });

  it('ignores case in names and directories but not in Java-style test class names', () => {
    expect(classifyPath('DOCKERFILE')).toBe('infrastructure');
    expect(classifyPath('Tests/Foo.cs')).toBe('test');
    expect(classifyPath('src/Contest.java')).toBe('backend');
  });

  it('does not take an OpenAPI document named *-spec.yaml for a test', () => {
    expect(classifyPath('openapi/api-spec.yaml')).toBe('other');
    expect(classifyPath('server/api-spec.yaml')).toBe('backend');
  });

  it('reads Windows separators and leading ./', () => {
    expect(normalizePath('.\\src\\app.tsx')).toBe('src/app.tsx');
    expect(classifyPath('./web\\src\\main.ts')).toBe('frontend');
    expect(normalizePath('/docs/x.md')).toBe('docs/x.md');
  });

  it('lets the topmost area directory decide for shared languages', () => {
    expect(classifyPath('frontend/api/client.ts')).toBe('frontend');
    expect(classifyPath('server/public/app.js')).toBe('backend');
  });
});
