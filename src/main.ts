import 'reflect-metadata';
import { Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './auth/token-policy';
import { serverOptions } from './config/server-options';
import { enableServerCors } from './config/cors';
import { corsOrigins, InvalidEnvironmentError, validateEnvironment } from './config/env.validation';
import { UnsupportedPostgresError } from './database/postgres-version';
import { devAdminToken } from './embedded/dev-token';
import { EmbeddedPostgres, EmbeddedPostgresError } from './embedded/embedded-postgres';
import { setupPgBackupDocs } from './openapi/openapi';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug'];

let embedded: EmbeddedPostgres | undefined;

async function bootstrap(): Promise<void> {
  const env = validateEnvironment(process.env);
  if (!env.DATABASE_URL) embedded = await EmbeddedPostgres.start(join(process.cwd(), '.pgdata'));
  const databaseUrl = env.DATABASE_URL ?? embedded!.url();
  const options = serverOptions(env, databaseUrl, embedded?.devSecret());

  const level = env.LOG_LEVEL ?? 'log';
  const app = await NestFactory.create(AppModule.register(options, { example: Boolean(embedded) }), { logger: LEVELS.slice(0, LEVELS.indexOf(level as LogLevel) + 1) });
  enableServerCors(app, corsOrigins(env));
  setupPgBackupDocs(app);
  const port = env.PORT ?? 3000;
  // Longer than clients' and proxies' idle timeouts, so a reused keep-alive socket is never closed under a request.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await app.listen(port);

  const stop = async (signal: string) => {
    Logger.log(`${signal}: stopping`, 'PgBackup');
    await app.close();
    embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const base = `http://localhost:${port}/api/admin`;
  Logger.log(`admin API on ${base} (OpenAPI: ${base}/docs, ${base}/docs-json)`, 'PgBackup');
  if (embedded && options.auth.secret) {
    // never longer than the guard accepts
    const lifetimeSeconds = Math.min(86_400, options.auth.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
    const token = devAdminToken(options.auth.secret, lifetimeSeconds);
    console.log(
      [
        '',
        `Embedded PostgreSQL: ${embedded.url()} (data in ./.pgdata; set DATABASE_URL to use your own database)`,
        `Admin API:           ${base}`,
        `API docs:            ${base}/docs (OpenAPI JSON: ${base}/docs-json)`,
        `Admin page:          http://localhost:${port}/backup-admin#token=${token}`,
        `Development admin token (valid ${Math.round(lifetimeSeconds / 360) / 10} h):`,
        `  export TOKEN=${token}`,
        `  curl -X POST -H "Authorization: Bearer $TOKEN" ${base}/backups`,
        `Example app (each new account requests a backup): curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"email":"ann@example.com","role":"admin"}' http://localhost:${port}/api/example/accounts`,
        '',
      ].join('\n'),
    );
  }
}

bootstrap().catch((error: Error) => {
  embedded?.stop();
  if (error instanceof InvalidEnvironmentError || error instanceof EmbeddedPostgresError || error instanceof UnsupportedPostgresError) {
    console.error(error.message);
  } else {
    console.error(`startup failed: ${error.stack ?? error.message}`);
  }
  process.exit(1);
});
