import { configSecrets, loadConfig, type LoadConfigOptions } from './config/load.js';
import type { Config } from './config/schema.js';
import { registerSecret, registerSecretUrl } from './telemetry/redact.js';

/**
 * Hands every secret of a configuration to the redactor, so no log line or error text shows one.
 * config/ sits below telemetry/ and cannot do it; every entry point does it right after loading,
 * before anything logs. Registering twice is harmless.
 */
export function registerConfigSecrets(config: Config): void {
  const { values, secretUrls, passwordUrls } = configSecrets(config);
  for (const value of values) registerSecret(value);
  for (const url of secretUrls) registerSecretUrl(url, true);
  for (const url of passwordUrls) registerSecretUrl(url, false);
}

/** loadConfig, with the secrets registered before the configuration is handed out. */
export function loadConfigWithSecrets(options: LoadConfigOptions = {}): Config {
  const config = loadConfig(options);
  registerConfigSecrets(config);
  return config;
}
