import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { findRedisServer, freePort } from '../../src/simulator/redis-server.js';

/**
 * Real Redis topologies for the tests, built from redis-server and redis-cli on PATH (no Docker): a
 * Redis Cluster of three masters (with a replica each when asked), and a primary with a replica
 * watched by Sentinels. Every process is killed and every directory removed by `close`.
 */

/** One redis-server process of a topology. */
interface NodeProcess {
  port: number;
  child: ChildProcess;
  stderr: () => string;
}

const children = new Set<ChildProcess>();
// A test run that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function redisBin(): string {
  const bin = findRedisServer();
  if (!bin) throw new Error('No redis-server found on PATH (or REDIS_SERVER_BIN): the cluster and Sentinel tests need it');
  return bin;
}

function redisCli(): string {
  const bin = process.env.REDIS_CLI_BIN ?? 'redis-cli';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('No redis-cli found on PATH (or REDIS_CLI_BIN): the cluster tests need it to join the nodes');
  return bin;
}

function spawnNode(args: string[], port: number): NodeProcess {
  const child = spawn(redisBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString('utf8')).slice(-4_000);
  });
  return { port, child, stderr: () => errors };
}

/** A client of one node that never retries: for the helpers' own probes. */
function probe(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {});
  return client;
}

async function ask<T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = probe(port);
  try {
    await client.connect();
    return await command(client);
  } finally {
    client.disconnect();
  }
}

/** Waits until `check` holds, trying every 100 ms; a bound on a hang, never a measure. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForPing(node: NodeProcess): Promise<void> {
  await waitFor(async () => {
    if (node.child.exitCode !== null) throw new Error(`redis-server on ${node.port} exited: ${node.stderr().slice(-300)}`);
    return (await ask(node.port, (client) => client.ping())) === 'PONG';
  }, `redis-server on port ${node.port}`);
}

async function killAll(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** A failover done: the old and the new primary's ports, and when the topology named the new one (epoch ms). */
export interface FailoverResult {
  from: number;
  to: number;
  switchedAt: number;
}

// --- Redis Cluster ---

export interface TestClusterOptions {
  /** Masters; default 3 (the fewest redis-cli accepts). */
  masters?: number;
  /** Replicas per master; default 0. One is needed for a failover. */
  replicas?: number;
}

export interface TestCluster {
  /** Ports of every node, masters first as created. */
  readonly ports: number[];
  /** A redis+cluster:// URL naming these nodes as seeds (default: all). */
  url(seeds?: number[]): string;
  /** A cluster client (closed by `close`). */
  client(): Cluster;
  /** The port of the master that serves `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** Ports of the masters now. */
  masters(): Promise<number[]>;
  /** Ports of the replicas of the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /**
   * `CLUSTER FAILOVER` on a replica of the master serving `slot`, and waits until that replica
   * serves it and the cluster is ok on every node. Answers the old and the new master's ports.
   */
  failover(slot: number): Promise<FailoverResult>;
  /** Kills every node and removes their directories. */
  close(): Promise<void>;
}

/**
 * A Redis Cluster on loopback: `masters` redis-server processes with `--cluster-enabled yes` (and
 * `replicas` each), joined by `redis-cli --cluster create`, returned once every node says
 * cluster_state:ok and every replica is in sync.
 */
export async function startRedisCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-cluster-'));
  const nodes: NodeProcess[] = [];
  const clients: Cluster[] = [];
  const close = async () => {
    for (const client of clients) client.disconnect();
    await killAll(nodes);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i += 1) {
      const port = await freePort();
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'yes', '--appendfilename', `appendonly-${port}.aof`, '--appenddirname', `aof-${port}`,
      ];
      nodes.push(spawnNode(args, port));
    }
    await Promise.all(nodes.map(waitForPing));
    const created = spawnSync(
      redisCli(),
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${(created.stdout + created.stderr).slice(-800)}`);
    await waitFor(
      async () => {
        for (const node of nodes) {
          const info = await ask(node.port, (client) => client.cluster('INFO') as Promise<string>);
          if (infoField(info, 'cluster_state') !== 'ok' || Number(infoField(info, 'cluster_known_nodes')) !== nodes.length) return false;
          const replication = await ask(node.port, (client) => client.info('replication'));
          if (infoField(replication, 'role') === 'slave' && infoField(replication, 'master_link_status') !== 'up') return false;
        }
        return true;
      },
      'cluster_state:ok on every node',
      60_000,
    );
  } catch (error) {
    await close();
    throw error;
  }

  const ports = nodes.map((node) => node.port);
  const slots = async () => {
    for (const port of ports) {
      try {
        return await ask(port, (client) => client.cluster('SLOTS'));
      } catch {
        // That node is down: ask another.
      }
    }
    throw new Error('no cluster node answers CLUSTER SLOTS');
  };
  const masterOf = async (slot: number) => {
    const range = (await slots()).find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`slot ${slot} is served by no node`);
    return range[2]![1];
  };
  const replicasOf = async (port: number) => {
    const ids = await ask(port, (client) => client.cluster('MYID') as Promise<string>);
    const lines = (await ask(port, (client) => client.cluster('NODES') as Promise<string>)).split('\n');
    return lines
      .map((line) => line.split(' '))
      .filter((fields) => fields[3] === ids && /slave/.test(fields[2] ?? ''))
      .map((fields) => Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]));
  };
  return {
    ports,
    url: (seeds = ports) => `redis+cluster://${seeds.map((port) => `127.0.0.1:${port}`).join(',')}`,
    client: () => {
      const client = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { redisOptions: { maxRetriesPerRequest: null }, clusterRetryStrategy: () => 200, retryDelayOnFailover: 200, retryDelayOnClusterDown: 300 },
      );
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    masterOf,
    masters: async () => [...new Set((await slots()).map((range) => range[2]![1]))],
    replicasOf,
    slotOf: (key) => ask(ports[0]!, (client) => client.cluster('KEYSLOT', key)).then(Number),
    async failover(slot) {
      const from = await masterOf(slot);
      const [to] = await replicasOf(from);
      if (to === undefined) throw new Error(`the master on ${from} has no replica to fail over to`);
      await ask(to, (client) => client.cluster('FAILOVER'));
      await waitFor(async () => (await masterOf(slot)) === to, `the replica on ${to} to serve slot ${slot}`);
      const switchedAt = Date.now();
      await waitFor(async () => {
        for (const port of ports) {
          const info = await ask(port, (client) => client.cluster('INFO') as Promise<string>);
          if (infoField(info, 'cluster_state') !== 'ok') return false;
        }
        return true;
      }, 'cluster_state:ok after the failover');
      return { from, to, switchedAt };
    },
    close,
  };
}

// --- Sentinel ---

export interface TestSentinelOptions {
  /** Sentinels; default 1. */
  sentinels?: number;
  /** Master group name; default mymaster. */
  masterName?: string;
  /** requirepass of the Sentinels, when set. */
  sentinelPassword?: string;
}

export interface TestSentinel {
  readonly masterName: string;
  readonly sentinelPorts: number[];
  /** Ports of the data nodes: the first primary, then its replica. */
  readonly dataPorts: number[];
  /** A redis+sentinel:// URL naming every Sentinel and the master name. */
  url(): string;
  /** The port of the primary the Sentinels name now. */
  primaryPort(): Promise<number>;
  /** A client of the current primary through the Sentinels (closed by `close`). */
  client(): Redis;
  /**
   * `SENTINEL FAILOVER <name>` and waits until the Sentinels name the replica and it answers as a
   * master. Answers the old and the new primary's ports.
   */
  failover(): Promise<FailoverResult>;
  /**
   * SIGKILLs the primary and waits until the Sentinels promote the replica (after
   * down-after-milliseconds, 1 s here): the crash failover, with a moment when no primary answers.
   * The old primary stays down.
   */
  crashPrimary(): Promise<FailoverResult>;
  /** Kills every process and removes the directory. */
  close(): Promise<void>;
}

/**
 * A primary, one replica and `sentinels` Sentinels (redis-server --sentinel) on loopback, returned
 * once the replica is in sync and every Sentinel knows it (so a failover has someone to promote).
 */
export async function startRedisSentinel(options: TestSentinelOptions = {}): Promise<TestSentinel> {
  const masterName = options.masterName ?? 'mymaster';
  const count = options.sentinels ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-sentinel-'));
  const nodes: NodeProcess[] = [];
  const clients: Redis[] = [];
  const close = async () => {
    for (const client of clients) client.disconnect();
    await killAll(nodes);
    rmSync(dir, { recursive: true, force: true });
  };
  const dataPorts: number[] = [];
  const sentinelPorts: number[] = [];
  const sentinelAuth = options.sentinelPassword ? { password: options.sentinelPassword } : {};
  const askSentinel = async <T>(port: number, command: (client: Redis) => Promise<T>) => {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...sentinelAuth });
    client.on('error', () => {});
    try {
      await client.connect();
      return await command(client);
    } finally {
      client.disconnect();
    }
  };
  const primaryPort = async () => {
    for (const port of sentinelPorts) {
      try {
        const answer = (await askSentinel(port, (client) => client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName))) as [string, string] | null;
        if (answer) return Number(answer[1]);
      } catch {
        // That Sentinel is down: ask another.
      }
    }
    throw new Error('no Sentinel names the primary');
  };
  try {
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      dataPorts.push(port);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', '--save', '', '--appendonly', 'yes', '--appendfilename', `appendonly-${port}.aof`, '--appenddirname', `aof-${port}`];
      if (i === 1) args.push('--replicaof', '127.0.0.1', String(dataPorts[0]));
      nodes.push(spawnNode(args, port));
    }
    await Promise.all(nodes.map(waitForPing));
    await waitFor(async () => infoField(await ask(dataPorts[1]!, (client) => client.info('replication')), 'master_link_status') === 'up', 'the replica in sync');
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 0; i < count; i += 1) {
      const port = await freePort();
      sentinelPorts.push(port);
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`] : []),
          `sentinel monitor ${masterName} 127.0.0.1 ${dataPorts[0]} ${quorum}`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      const node = spawnNode([file, '--sentinel', '--loglevel', 'warning'], port);
      nodes.push(node);
    }
    for (const port of sentinelPorts) {
      await waitFor(async () => {
        const replicas = (await askSentinel(port, (client) => client.call('SENTINEL', 'REPLICAS', masterName))) as unknown[];
        return replicas.length >= 1;
      }, `the Sentinel on ${port} to know the replica`);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    masterName,
    sentinelPorts,
    dataPorts,
    url: () => `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${masterName}`,
    primaryPort,
    client: () => {
      const client = new Redis({ sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: masterName, maxRetriesPerRequest: null, failoverDetector: true, ...(options.sentinelPassword ? { sentinelPassword: options.sentinelPassword } : {}) });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async failover() {
      const from = await primaryPort();
      await askSentinel(sentinelPorts[0]!, (client) => client.call('SENTINEL', 'FAILOVER', masterName));
      await waitFor(async () => (await primaryPort()) !== from, 'the Sentinels to name a new primary');
      const switchedAt = Date.now();
      const to = await primaryPort();
      await waitFor(async () => infoField(await ask(to, (client) => client.info('replication')), 'role') === 'master', `the node on ${to} to act as master`);
      // The old primary, demoted, resyncs from the new one: done when the new one sees it online.
      await waitFor(async () => /slave0:.*state=online/.test(await ask(to, (client) => client.info('replication'))), `the old primary on ${from} to replicate from ${to}`);
      return { from, to, switchedAt };
    },
    async crashPrimary() {
      const from = await primaryPort();
      const node = nodes.find((candidate) => candidate.port === from)!;
      const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
      node.child.kill('SIGKILL');
      await exited;
      await waitFor(async () => (await primaryPort()) !== from, 'the Sentinels to promote the replica after the crash');
      const switchedAt = Date.now();
      const to = await primaryPort();
      await waitFor(async () => infoField(await ask(to, (client) => client.info('replication')), 'role') === 'master', `the node on ${to} to act as master`);
      return { from, to, switchedAt };
    },
    close,
  };
}
