// The benchmark's peers — Node-RED, bpmn-engine (with smqp at the version bpmn-elements itself
// uses) and autocannon, the load generator — live in test/bench/peers, outside the pnpm
// workspace, with their own package-lock.json: the README's install does not bring their 300
// packages. `pnpm bench` installs them on first use (npm ci, from the lock); the suite's check of
// the comparison (peers.test.ts) runs them when they are installed and says how otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PEERS_DIR = fileURLToPath(new URL('./peers/', import.meta.url));
const MANIFEST = join(PEERS_DIR, 'package.json');

/** How to install them by hand, for the messages of a run without them. */
export const PEERS_INSTALL = 'npm ci --prefix test/bench/peers';

/** require() from the peers' folder: their packages, and the packages they depend on. */
export const peerRequire = createRequire(MANIFEST);

/** Whether every peer is installed, at the version its package.json names. */
export function peersInstalled() {
  const { dependencies } = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  return Object.entries(dependencies).every(([name, version]) => {
    const manifest = join(PEERS_DIR, 'node_modules', name, 'package.json');
    return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version;
  });
}

/**
 * Installs the peers when one is missing or at another version than package.json names (npm ci,
 * from the lock, through the npm registry or npm's cache), saying so; throws when npm fails.
 * Returns whether it installed.
 */
export function ensurePeers({ log = (line) => console.log(line) } = {}) {
  if (peersInstalled()) return false;
  log(`bench: installing the peer engines (${PEERS_INSTALL}) …`);
  const npm = spawnSync('npm', ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--prefer-offline'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (npm.status !== 0) throw new Error(`bench: ${PEERS_INSTALL} failed (exit ${npm.status ?? npm.signal})`);
  return true;
}

/** import() of a peer's package (an ES module, or CommonJS through Node's interop). */
export function peerImport(name) {
  return import(pathToFileURL(peerRequire.resolve(name)).href);
}
