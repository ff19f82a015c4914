// Entry point: starts the service on PORT (default 0: a free port the OS picks) and prints one
// JSON line saying where it listens, which is how a process manager learns the port.
import { start } from './main.mjs';

const service = await start({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1', env: process.env });
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: service.port, version: service.version })}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => service.close().then(() => process.exit(0)));
