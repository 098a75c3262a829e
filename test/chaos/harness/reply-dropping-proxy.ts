import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a real Redis that can lose one reply: once armed with a pattern, the next
 * command whose bytes contain it is forwarded, and when Redis answers, the answer is thrown away and
 * the connection cut. Redis has executed the command; the client never hears so, reconnects and
 * (as ioredis does by default) sends it again. That is what a Redis restart or a network blip does
 * to a command in flight, made deterministic.
 */
export class ReplyDroppingProxy {
  private server: Server | undefined;
  private armed: string | undefined;
  private readonly sockets = new Set<Socket>();
  /** Replies dropped so far. */
  dropped = 0;

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<string> {
    this.server = createServer((client) => {
      const upstream = connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      let dropNextReply = false;
      client.on('data', (chunk: Buffer) => {
        if (this.armed !== undefined && chunk.toString('latin1').includes(this.armed)) {
          this.armed = undefined;
          dropNextReply = true;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!dropNextReply) {
          client.write(chunk);
          return;
        }
        this.dropped += 1;
        client.destroy();
        upstream.destroy();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `redis://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next command containing `pattern` is executed but its reply is lost. */
  dropReplyTo(pattern: string): void {
    this.armed = pattern;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
