import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { Conditions } from './local-http.js';

/**
 * A real SMTP server in-process (smtp-server), for tests, the chaos suite, the demo and the
 * benchmark. It can require a login, speak TLS from the start (smtps) or offer STARTTLS, and
 * `refuseNext` scripts refusals (451 try later, 550 rejected, 421 closing, ...) at MAIL FROM,
 * RCPT TO or after DATA for the next N attempts.
 *
 * It lives under src/ because the demo runs it. It parses nothing itself: a caller that wants
 * parsed mail passes `parse` (the demo and test/helpers/smtp-sink.ts pass mailparser's
 * simpleParser); without it `parsed` is undefined and `raw` carries the message.
 */

export type SmtpStage = 'mail' | 'rcpt' | 'data';

export interface SmtpRefusal {
  /** SMTP reply code, e.g. 451, 550. */
  code: number;
  message?: string;
  /** When to refuse; default `data` (after the whole message, where most servers judge it). */
  stage?: SmtpStage;
}

export interface SmtpSinkMail<P = undefined> {
  /** Epoch ms when the message was accepted, by the sink's clock. */
  at: number;
  envelope: { from: string; to: string[] };
  /** The message as `parse` read it; undefined without `parse`. */
  parsed: P;
  raw: string;
  /** True when the session ran over TLS (smtps or after STARTTLS). */
  secure: boolean;
  /** The login used, if any. */
  user?: string;
  /** smtp-server's session id; one per connection, so the pool's reuse is visible. */
  sessionId: string;
}

/** Every attempt at a stage, accepted or refused, in order. */
export interface SmtpSinkAttempt {
  at: number;
  stage: SmtpStage;
  code: number;
  sessionId: string;
}

export interface SmtpSinkOptions<P = undefined> {
  /** Require this login (AUTH PLAIN/LOGIN); default none (auth optional). */
  auth?: { user: string; pass: string };
  /** Implicit TLS (smtps://) with smtp-server's built-in self-signed certificate. */
  secure?: boolean;
  /** Offer STARTTLS (self-signed certificate); default false, so plain smtp:// needs no TLS settings. */
  starttls?: boolean;
  /**
   * Reads each message before it is accepted; a rejection refuses it with 554. Default: none
   * (`parsed` is undefined).
   */
  parse?: (raw: string) => Promise<P>;
  /** Called for every accepted mail, e.g. to write it as .eml in the demo. */
  onMail?: (mail: SmtpSinkMail<P>) => void;
  /** Port; default any free one. */
  port?: number;
}

export interface SmtpSink<P = undefined> {
  readonly port: number;
  /**
   * An SMTP_URL for this sink, with the login when the sink requires one. Self-signed TLS is
   * accepted through nodemailer's `tls.rejectUnauthorized=false` URL option.
   */
  url(credentials?: { user: string; pass: string }): string;
  readonly mails: readonly SmtpSinkMail<P>[];
  readonly attempts: readonly SmtpSinkAttempt[];
  /** Connections opened so far. */
  readonly connections: number;
  refuseNext(times: number, refusal: SmtpRefusal): void;
  waitFor(predicate: (sink: SmtpSink<P>) => boolean, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  const error = new Error(message) as Error & { responseCode: number };
  error.responseCode = code;
  return error;
}

function address(value: SMTPServerAddress | false | undefined): string {
  return value ? value.address : '';
}

/** Starts the sink on 127.0.0.1. */
export async function startSmtpSink<P = undefined>(options: SmtpSinkOptions<P> = {}): Promise<SmtpSink<P>> {
  const mails: SmtpSinkMail<P>[] = [];
  const parse = options.parse ?? (async () => undefined as P);
  const attempts: SmtpSinkAttempt[] = [];
  const refusals: Array<SmtpRefusal & { remaining: number }> = [];
  const conditions = new Conditions('smtp sink');
  let connections = 0;

  /** The refusal for this stage, if one is scripted; counts it down. */
  const refusalFor = (stage: SmtpStage): SmtpRefusal | undefined => {
    const index = refusals.findIndex((refusal) => (refusal.stage ?? 'data') === stage);
    if (index < 0) return undefined;
    const refusal = refusals[index]!;
    refusal.remaining -= 1;
    if (refusal.remaining <= 0) refusals.splice(index, 1);
    return refusal;
  };

  const judge = (stage: SmtpStage, session: SMTPServerSession): Error | undefined => {
    const refusal = refusalFor(stage);
    attempts.push({ at: Date.now(), stage, code: refusal?.code ?? 250, sessionId: session.id });
    if (!refusal) return undefined;
    conditions.recheck();
    const text = refusal.message ?? (refusal.code >= 500 ? 'Requested action not taken: rejected by the test sink' : 'Try again later (test sink)');
    return smtpError(refusal.code, text);
  };

  const server = new SMTPServer({
    secure: options.secure ?? false,
    hideSTARTTLS: !(options.starttls ?? false),
    authOptional: !options.auth,
    disabledCommands: options.auth ? [] : ['AUTH'],
    allowInsecureAuth: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError(535, 'Authentication credentials invalid'));
      }
    },
    onMailFrom(_address, session, callback) {
      callback(judge('mail', session) ?? null);
    },
    onRcptTo(_address, session, callback) {
      callback(judge('rcpt', session) ?? null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const refused = judge('data', session);
        if (refused) {
          callback(refused);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        parse(raw)
          .then((parsed) => {
            const mail: SmtpSinkMail<P> = {
              at: Date.now(),
              envelope: { from: address(session.envelope.mailFrom), to: session.envelope.rcptTo.map((rcpt) => rcpt.address) },
              parsed,
              raw,
              secure: session.secure,
              sessionId: session.id,
              ...(session.user ? { user: String(session.user) } : {}),
            };
            mails.push(mail);
            options.onMail?.(mail);
            callback();
            conditions.recheck();
          })
          .catch((error: unknown) => callback(smtpError(554, `unparseable message: ${(error as Error).message}`)));
      });
    },
  });
  server.on('error', () => {
    // A client that drops mid-session is part of what tests do; nothing to report.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const tls = options.secure || options.starttls;

  const sink: SmtpSink<P> = {
    port,
    url(credentials = options.auth) {
      const login = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@` : '';
      return `${options.secure ? 'smtps' : 'smtp'}://${login}127.0.0.1:${port}${tls ? '/?tls.rejectUnauthorized=false' : ''}`;
    },
    get mails() {
      return mails;
    },
    get attempts() {
      return attempts;
    },
    get connections() {
      return connections;
    },
    refuseNext(times, refusal) {
      if (times > 0) refusals.push({ ...refusal, remaining: times });
    },
    waitFor: (predicate, timeoutMs = 30_000) =>
      conditions.waitFor(() => predicate(sink), timeoutMs, () => `${mails.length} mails, ${attempts.length} attempts`),
    reset() {
      mails.length = 0;
      attempts.length = 0;
      refusals.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sink;
}
