/**
 * A server that is one peer among several on a shared store (DESIGN §9): GET /peers lists the
 * peers and the runs each holds, /health says which store and whether it can be written, and
 * /metrics counts lease takeovers, fenced writes and how long ready runs waited to be claimed.
 */
import type { IncomingMessage } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HeadsAnswer, HeadsQuery, PeerInfo, RunStore, StoreHealth } from '@gantry/engine';
import { httpError, sendJson } from './http.js';
import type { Handler } from './router.js';

/** A peer as the shared store lists it. */
export type ClusterPeer = PeerInfo;

/** What the server reads of the peers it belongs to (@gantry/store-postgres's store and peer). */
export interface ClusterView {
  /** This process among the peers. */
  readonly peerId: string;
  peers(): Promise<readonly ClusterPeer[]>;
  /** Counters kept by the store, read at each scrape. */
  readonly stats: { readonly fencedWrites: number; readonly takeovers: number; readonly lostLeases: number; readonly commitRetries: number };
  /** Hears each run this process claims, with how long it had been ready. */
  onClaim(listener: (claim: { readonly waitedMs: number }) => void): () => void;
  /** Where the watched journals are: the live streams poll it, while one is open, for what the other peers write. */
  heads(query: HeadsQuery): Promise<HeadsAnswer>;
  /** How often the live streams poll `heads` while one is open, in ms. */
  readonly pollMs: number;
}

/** What GET /health says of the store: it must answer a read, and says the rest in its own words when it has them. */
export async function storeHealth(store: RunStore): Promise<StoreHealth> {
  await store.getRun('health-check');
  if (store.health !== undefined) return store.health();
  return { kind: store.durable === false ? 'memory' : 'custom', writable: true };
}

/** GET /peers: any principal; every live peer, when it last renewed its leases, and the runs it holds. */
export function peersHandler(cluster: ClusterView | undefined, principalOf: (req: IncomingMessage) => string): Handler {
  return async ({ req, res }) => {
    principalOf(req);
    if (cluster === undefined) throw httpError('NOT_FOUND', 'this server keeps its runs in a store of its own (one process, no peers): GET /peers answers on a Postgres store');
    const peers = await cluster.peers();
    sendJson(res, 200, {
      this_peer: cluster.peerId,
      peers: peers.map((p) => ({
        id: p.id,
        kind: p.kind,
        host: p.host,
        pid: p.pid,
        version: p.version,
        ...(p.address === undefined ? {} : { address: p.address }),
        started_at: p.startedAt,
        heartbeat_at: p.heartbeatAt,
        run_count: p.runCount,
        runs: p.runs,
      })),
    });
  };
}

/** The peer's metrics, on the server's registry; returns what stops listening. */
export function registerClusterMetrics(registry: Registry, cluster: ClusterView): () => void {
  const { stats } = cluster;
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('gantry_lease_takeovers_total', 'Runs this process took over from another that held them (its lease had run out, or a decision or cancellation was given here).', () => stats.takeovers);
  counter('gantry_fenced_writes_total', "Runs whose events a commit refused because another process holds them now (this one's lease had run out): nothing of them was written.", () => stats.fencedWrites);
  counter('gantry_lost_leases_total', 'Runs this process found held by another at a lease renewal (it had been paused or cut off for longer than its lease).', () => stats.lostLeases);
  counter('gantry_store_commit_retries_total', 'Commits sent again because the database could not be reached.', () => stats.commitRetries);
  const latency = new Histogram({
    name: 'gantry_claim_latency_seconds',
    help: 'How long a run had been ready for any process (its lease run out, handed back, its timer due) when this process claimed it.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'gantry_peers',
    help: 'Processes sharing the store whose leases were renewed lately, this one included.',
    registers: [registry],
    async collect() {
      try {
        this.set((await cluster.peers()).length);
      } catch {
        // The store does not answer: the gauge keeps its last value, and /health says why.
      }
    },
  });
  return cluster.onClaim((claim) => latency.observe(claim.waitedMs / 1000));
}
