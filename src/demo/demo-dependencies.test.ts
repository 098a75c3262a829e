import { describe, expect, it } from 'vitest';
import { missingDemoPackage } from './demo-dependencies.js';

function moduleNotFound(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });
}

describe('missingDemoPackage', () => {
  it('names the demo-only package an installation without devDependencies lacks', () => {
    const error = moduleNotFound("Cannot find package 'smtp-server' imported from /app/dist/simulator/smtp-sink.js");
    expect(missingDemoPackage(error)).toMatch(/^the demo needs smtp-server, a development dependency .* run it from a checkout after npm ci$/);
  });

  it('leaves every other failure to be reported as it is', () => {
    expect(missingDemoPackage(moduleNotFound("Cannot find package 'ioredis' imported from /app/dist/x.js"))).toBeUndefined();
    expect(missingDemoPackage(new Error("Cannot find package 'smtp-server'"))).toBeUndefined();
    expect(missingDemoPackage(undefined)).toBeUndefined();
  });
});
