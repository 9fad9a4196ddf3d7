import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateIdentity, parseIdentities, parseRecipient } from '../../src/crypto/age';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('BACKUP_INCLUDE_PATHS: files beside the dump', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const keys = generateIdentity();
  const uploads = mkdtempSync(join(tmpdir(), 'pgb-uploads-'));
  const single = join(mkdtempSync(join(tmpdir(), 'pgb-config-')), 'app.env');
  let backup: any;
  const appOptions = {
    includePaths: [uploads, single],
    encryption: { recipients: [parseRecipient(keys.recipient)], identities: parseIdentities(keys.identity) },
    restoreFilesRoots: [tmpdir()],
    restoreFilesInPlace: true,
  };

  before(async () => {
    mkdirSync(join(uploads, 'avatars'));
    writeFileSync(join(uploads, 'avatars', 'ada.png'), Buffer.alloc(70_000, 7));
    writeFileSync(join(uploads, 'readme.txt'), 'hello');
    chmodSync(join(uploads, 'readme.txt'), 0o640);
    symlinkSync('/etc/passwd', join(uploads, 'passwd-link'));
    writeFileSync(single, 'SECRET=1');
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int); insert into t select generate_series(1, 100)', 'app');
    server = await startApp(pg.url('app'), appOptions);
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('writes the files part through the same compression and encryption, with its own checksum', async () => {
    backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    assert.match(backup.files.filename, /\.files\.tar\.zst\.age$/);
    assert.deepEqual(backup.files.paths, [uploads, single]);
    const path = join(server.backupDir, backup.files.filename);
    assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), backup.files.sha256);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const identity = join(server.backupDir, '..', `pgb-id-${process.pid}`);
    writeFileSync(identity, keys.identity);
    const listing = execFileSync('bash', ['-c', `age -d -i '${identity}' '${path}' | zstd -dc | tar -tf -`], { encoding: 'utf8' });
    assert.match(listing, new RegExp(`${uploads.slice(1)}/avatars/ada.png`));
    assert.match(listing, new RegExp(`${single.slice(1)}`));

    const verify = (await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json;
    assert.equal(verify.checks.at(-1).name, 'files');
    assert.equal(verify.valid, true, JSON.stringify(verify));
    const part = await fetch(`${server.base}/backups/${backup.id}/download?part=files`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(part.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await part.arrayBuffer())).digest('hex'), backup.files.sha256);
  });

  it('restores files only when asked: into a directory given, then back into place', async () => {
    const plain = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    const done = await server.waitDone(`/restores/${plain.json.id}`, admin);
    assert.equal(done.status, 'completed');
    assert.equal(done.detail?.files, undefined, 'no files without files: true');

    const target = mkdtempSync(join(tmpdir(), 'pgb-files-target-'));
    const into = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true, filesTarget: target } });
    assert.equal(into.status, 202, into.text);
    const intoDone = await server.waitDone(`/restores/${into.json.id}`, admin);
    assert.equal(intoDone.status, 'completed', JSON.stringify(intoDone));
    assert.ok(intoDone.detail.files.restored >= 3);
    assert.ok(intoDone.detail.files.skipped.some((name: string) => name.endsWith('passwd-link')), 'symlinks are not restored');
    assert.ok(readFileSync(join(target, uploads, 'avatars', 'ada.png')).equals(Buffer.alloc(70_000, 7)));
    assert.equal(statSync(join(target, uploads, 'readme.txt')).mode & 0o777, 0o640);

    rmSync(join(uploads, 'avatars'), { recursive: true });
    writeFileSync(join(uploads, 'readme.txt'), 'changed');
    const inPlace = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true } });
    assert.equal((await server.waitDone(`/restores/${inPlace.json.id}`, admin)).status, 'completed');
    assert.equal(readFileSync(join(uploads, 'readme.txt'), 'utf8'), 'hello');
    assert.ok(existsSync(join(uploads, 'avatars', 'ada.png')));
  });

  it('refuses a target outside the configured roots, and in place unless enabled', async () => {
    const outside = `/var/pgb-not-a-root-${process.pid}`;
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true, filesTarget: outside } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, /not inside a directory of RESTORE_FILES_ROOTS/);
    assert.equal(existsSync(outside), false);
    const strict = await startApp(pg.url('app'), { ...appOptions, backupDir: server.backupDir, restoreFilesInPlace: undefined });
    try {
      const inPlace = await strict.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true } });
      assert.equal(inPlace.status, 400, inPlace.text);
      assert.match(inPlace.json.message, /RESTORE_FILES_IN_PLACE/);
    } finally {
      await strict.close();
    }
  });

  it('stops at a directory swapped for a symlink under an include path, writing nothing through it', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'pgb-elsewhere-'));
    rmSync(join(uploads, 'avatars'), { recursive: true });
    symlinkSync(elsewhere, join(uploads, 'avatars'));
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true, safetyBackup: false } });
    assert.equal(r.status, 202, r.text);
    const done = await server.waitDone(`/restores/${r.json.id}`, admin);
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.match(done.error, /avatars is a symbolic link/);
    assert.equal(existsSync(join(elsewhere, 'ada.png')), false);
  });

  it('refuses files: true when the part is damaged, or a relative target', async () => {
    const path = join(server.backupDir, backup.files.filename);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 1;
    writeFileSync(path, bytes);
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true } });
    assert.equal(r.status, 422);
    assert.match(r.json.message, /files part/);
    const relative = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, files: true, filesTarget: 'tmp/x' } });
    assert.equal(relative.status, 400);
    assert.equal((await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json.valid, false);
  });
});
