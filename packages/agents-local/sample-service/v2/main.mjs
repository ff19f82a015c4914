import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createApp } from './app.mjs';
import { readFault } from './fault.mjs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** The service's settings: config.json beside the code, environment variables over it. */
export function loadSettings(env, file = new URL('./config.json', import.meta.url)) {
  let config = {};
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  return { fault: readFault(env, config.fault) };
}

/** Starts the HTTP server; resolves once it listens. */
export async function start({ port = 0, host = '127.0.0.1', env = {}, settings = loadSettings(env) } = {}) {
  const app = createApp({ version: pkg.version, ...settings });
  const server = createServer(app.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: server.address().port,
    version: pkg.version,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
