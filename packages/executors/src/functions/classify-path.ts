/**
 * Sorts a changed file's path into the review area it belongs to, so that a flow can route
 * backend, frontend and test changes to different reviewers (the design document's
 * `agent_router`). The rules are data (sets and patterns below), applied in a fixed order;
 * the first rule that matches decides:
 *
 * 1. `test` — a test file is a test file first, whatever its language: test names
 *    (`*.test.*`, `*.spec.*`, `*_test.go`, `test_*.py`, `FooTest.java`, …), test directories
 *    (`test/`, `tests/`, `__tests__/`, `spec/`, `e2e/`, …) and test-runner configuration.
 * 2. `docs` — `*.md`, `*.rst`, `*.adoc`, README/CHANGELOG/LICENSE…, anything under `docs/`.
 * 3. `infrastructure` — Dockerfiles, compose files, Makefiles, CI files, `*.tf`, and anything
 *    under `.github/workflows/`, `k8s/`, `deploy/`, `charts/`, `helm/`, `terraform/`, `infra/`, ….
 * 4. `frontend` — `.tsx/.jsx/.vue/.svelte/.css/.scss/.html/…` anywhere; bundler configs.
 * 5. `backend` — `.py/.go/.java/.rb/.rs/.cs/.php/.kt/.scala/…` anywhere, and backend manifests.
 * 6. By area — a file whose extension does not decide (`.ts/.js`, `.json`, images, …) takes
 *    the area of its topmost directory naming one: `frontend/ web/ ui/ client/ public/ …` →
 *    frontend, `backend/ server/ api/` → backend. `.ts/.js` outside any frontend area is backend.
 * 7. `other` — everything else (lockfiles, dotfile configs, images outside a frontend area, …).
 */

/** The review areas a changed file can fall in. */
export type FileCategory = 'backend' | 'frontend' | 'test' | 'infrastructure' | 'docs' | 'other';

/** Every category, in the order outputs list them. */
export const FILE_CATEGORIES: readonly FileCategory[] = Object.freeze([
  'backend',
  'frontend',
  'test',
  'infrastructure',
  'docs',
  'other',
]);

const TEST_DIRS = new Set([
  'test', 'tests', '__tests__', '__test__', 'spec', 'specs', 'e2e', 'cypress', 'testdata',
  '__mocks__', '__snapshots__', '__fixtures__',
]);
// Extensions a `-test`/`.spec` style name must have to count: it keeps `api-spec.yaml`
// (an OpenAPI document) out of the tests.
const TEST_NAME = /[._-](test|tests|spec|specs|e2e-spec|cy)\.(js|jsx|ts|tsx|mjs|cjs|mts|cts|vue|svelte|go|py|rb|rs|java|kt|cs|php|scala|ex|exs|swift|dart|c|cc|cpp)$/;
const TEST_NAME_CASED = /(Test|Tests|IT|Spec)\.(java|kt|scala|cs|php|groovy|swift)$/;
const TEST_NAME_PYTHON = /^(test_.*|tests?)\.py$/;
const TEST_CONFIG = /^(jest|vitest|vitest\.workspace|playwright|cypress|karma|jest\.setup|setuptests)\.(config\.)?[a-z]+$|^(conftest\.py|noxfile\.py|pytest\.ini|tox\.ini|\.coveragerc|\.mocharc\..+|.+\.snap)$/;

const DOC_EXTENSIONS = new Set(['md', 'mdx', 'markdown', 'rst', 'adoc', 'asciidoc']);
const DOC_NAMES = /^(readme|changelog|changes|history|contributing|license|licence|copying|authors|notice|code_of_conduct)(\..+)?$/;
const DOC_DIRS = new Set(['docs', 'doc', 'documentation']);

const INFRA_NAMES = /^(dockerfile(\..+)?|.+\.dockerfile|containerfile|\.dockerignore|docker-compose.*\.ya?ml|compose(\..+)?\.ya?ml|makefile|gnumakefile|.+\.mk|jenkinsfile|procfile|vagrantfile|\.gitlab-ci\.ya?ml|\.travis\.ya?ml|azure-pipelines\.ya?ml|bitbucket-pipelines\.ya?ml|appveyor\.ya?ml|cloudbuild\.ya?ml|buildspec\.ya?ml|skaffold\.ya?ml|kustomization\.ya?ml|chart\.ya?ml|helmfile\.ya?ml|serverless\.ya?ml|netlify\.toml|vercel\.json|fly\.toml|dependabot\.ya?ml|renovate\.json)$/;
const INFRA_EXTENSIONS = new Set(['tf', 'tfvars', 'hcl', 'nomad']);
const INFRA_PREFIXES = ['.github/workflows/', '.github/actions/', '.circleci/', '.buildkite/', '.devcontainer/'];
const INFRA_DIRS = new Set([
  'k8s', 'kubernetes', 'kube', 'deploy', 'deployment', 'deployments', 'charts', 'helm',
  'terraform', 'infra', 'infrastructure', 'ansible',
]);

const FRONTEND_EXTENSIONS = new Set([
  'tsx', 'jsx', 'vue', 'svelte', 'astro', 'css', 'scss', 'sass', 'less', 'styl', 'html', 'htm',
]);
const FRONTEND_CONFIG = /^(vite|webpack|rollup|next|nuxt|svelte|astro|tailwind|postcss|babel)\.config\.[a-z]+$/;
const FRONTEND_DIRS = new Set([
  'frontend', 'web', 'webapp', 'ui', 'client', 'www', 'public', 'static', 'components', 'pages', 'styles',
]);

const BACKEND_EXTENSIONS = new Set([
  'py', 'pyi', 'go', 'java', 'rb', 'rs', 'cs', 'fs', 'php', 'kt', 'scala', 'ex', 'exs', 'erl',
  'hrl', 'clj', 'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'sql', 'proto',
]);
const BACKEND_MANIFESTS = /^(requirements.*\.txt|pyproject\.toml|setup\.cfg|pipfile(\.lock)?|poetry\.lock|go\.mod|go\.sum|gemfile(\.lock)?|pom\.xml|build\.gradle(\.kts)?|settings\.gradle(\.kts)?|cargo\.toml|cargo\.lock|composer\.(json|lock)|.+\.csproj|.+\.sln)$/;
const BACKEND_DIRS = new Set(['backend', 'server', 'api']);

// JavaScript and TypeScript run on both sides: their area decides.
const SHARED_SCRIPT_EXTENSIONS = new Set(['ts', 'js', 'mjs', 'cjs', 'mts', 'cts']);

/**
 * Normalises a path as Git and GitHub print it: forward slashes, no leading `./` or `/`.
 * Returns `''` for a path with no name in it.
 */
export function normalizePath(path: string): string {
  return path.trim().replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

/**
 * The category of one changed file, by the rules in this module's header.
 * @param path a repository-relative path such as `src/api/users.py`
 */
export function classifyPath(path: string): FileCategory {
  const normal = normalizePath(path);
  const lower = normal.toLowerCase();
  const segments = lower.split('/');
  const name = segments.pop() ?? '';
  const originalName = normal.slice(normal.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1) : '';

  if (
    TEST_NAME.test(name) ||
    TEST_NAME_CASED.test(originalName) ||
    TEST_NAME_PYTHON.test(name) ||
    TEST_CONFIG.test(name) ||
    segments.some((s) => TEST_DIRS.has(s))
  ) {
    return 'test';
  }
  if (DOC_EXTENSIONS.has(extension) || DOC_NAMES.test(name) || segments.some((s) => DOC_DIRS.has(s))) {
    return 'docs';
  }
  if (
    INFRA_NAMES.test(name) ||
    INFRA_EXTENSIONS.has(extension) ||
    INFRA_PREFIXES.some((p) => lower.startsWith(p)) ||
    segments.some((s) => INFRA_DIRS.has(s))
  ) {
    return 'infrastructure';
  }
  if (FRONTEND_EXTENSIONS.has(extension) || FRONTEND_CONFIG.test(name)) return 'frontend';
  if (BACKEND_EXTENSIONS.has(extension) || BACKEND_MANIFESTS.test(name)) return 'backend';

  // Dotfiles (.eslintrc.js, .prettierrc, .gitignore) configure tools, not an application area.
  if (name.startsWith('.')) return 'other';
  const area = segments.find((s) => FRONTEND_DIRS.has(s) || BACKEND_DIRS.has(s));
  if (area !== undefined) return FRONTEND_DIRS.has(area) ? 'frontend' : 'backend';
  if (SHARED_SCRIPT_EXTENSIONS.has(extension)) return 'backend';
  return 'other';
}
