import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PgBackupModule } from '../../src/pg-backup.module';
import { UiAssets } from '../../src/ui/ui-assets';
import { UI_CONTENT_SECURITY_POLICY, UiController } from '../../src/ui/ui.controller';
import { UiModule } from '../../src/ui/ui.module';

Logger.overrideLogger(false);

function fakeResponse() {
  const headers: Record<string, string> = {};
  return { headers, response: { set: (values: Record<string, string>) => Object.assign(headers, values) } as unknown as Response };
}

const request = (originalUrl: string) => ({ originalUrl }) as Request;

describe('UiController', () => {
  const controller = new UiController(new UiAssets(), { uiPath: 'ops/backups', apiPath: 'internal/pg' });

  it('points the page at the API and at itself, after any global prefix', () => {
    const { headers, response } = fakeResponse();
    const html = controller.index(request('/v1/ops/backups/?tab=1'), response);
    assert.match(html, /<meta name="pg-backup-api" content="\/v1\/internal\/pg">/);
    assert.match(html, /<base href="\/v1\/ops\/backups\/">/);
    assert.equal(headers['Content-Security-Policy'], UI_CONTENT_SECURITY_POLICY);
    assert.equal(headers['Cache-Control'], 'no-cache');
    assert.equal(headers['Content-Type'], 'text/html; charset=utf-8');
  });

  it('escapes what it writes into the page', () => {
    const { response } = fakeResponse();
    const html = controller.index(request('/"><script>/ops/backups'), response);
    assert.doesNotMatch(html, /"><script>/);
    assert.match(html, /&#34;&#62;&#60;script&#62;/);
  });

  it('serves the listed files with their types and nothing else', () => {
    const { headers, response } = fakeResponse();
    assert.match(controller.file('app.js', response), /import/);
    assert.equal(headers['Content-Type'], 'text/javascript; charset=utf-8');
    for (const name of ['../package.json', '..', 'index.html', 'missing.js', 'app.js.map', '.hidden.js']) {
      assert.throws(() => controller.file(name, fakeResponse().response), NotFoundException, name);
    }
  });
});

describe('PgBackupModule uiPath', () => {
  const mounts = (uiPath?: string | false) =>
    (PgBackupModule.forRootAsync({ uiPath, useFactory: () => ({}) as never }).imports ?? []).filter(
      (m) => typeof m === 'object' && 'module' in m && m.module === UiModule,
    );

  it('mounts the page by default and not with uiPath: false', () => {
    assert.equal(mounts().length, 1);
    assert.equal(mounts('admin/backups').length, 1);
    assert.equal(mounts(false).length, 0);
  });
});
