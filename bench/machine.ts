import { cpus, totalmem, release, platform } from 'node:os';
import type { Redis } from 'ioredis';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  bullmq: string;
  date: string;
}

/** The machine and software versions a run was measured on. */
export async function machineInfo(redis: Redis, bullmqVersion: string): Promise<MachineInfo> {
  const server = await redis.info('server');
  const version = /redis_version:([^\r\n]+)/.exec(server)?.[1] ?? 'unknown';
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    redis: version,
    bullmq: bullmqVersion,
    date: new Date().toISOString(),
  };
}
