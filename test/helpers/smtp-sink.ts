import { simpleParser, type ParsedMail } from 'mailparser';
import * as base from '../../src/simulator/smtp-sink.js';

/**
 * The SMTP sink of src/simulator/smtp-sink.ts with every accepted message parsed by mailparser,
 * for tests that read subjects, text and HTML. A message mailparser cannot read is refused with 554.
 */

export type { SmtpRefusal, SmtpSinkAttempt, SmtpStage } from '../../src/simulator/smtp-sink.js';
export type SmtpSinkMail = base.SmtpSinkMail<ParsedMail>;
export type SmtpSink = base.SmtpSink<ParsedMail>;
export type SmtpSinkOptions = Omit<base.SmtpSinkOptions<ParsedMail>, 'parse'>;

/** Starts the sink on 127.0.0.1; each mail's `parsed` is mailparser's reading of it. */
export function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  return base.startSmtpSink<ParsedMail>({ ...options, parse: (raw) => simpleParser(raw) });
}
