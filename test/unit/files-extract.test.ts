import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { entryTarget, extractFiles } from '../../src/restore/files-extract';

function tarOf(entries: { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string }[]): Readable {
  const archive = pack();
  for (const e of entries) archive.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o640 }, e.body ?? '');
  archive.finalize();
  return archive as unknown as Readable;
}

describe('entryTarget', () => {
  it('keeps names inside the root and refuses absolute names and ..', () => {
    assert.equal(entryTarget('/restore', 'etc/app/config.yml'), '/restore/etc/app/config.yml');
    assert.equal(entryTarget('/restore', './a//b'), '/restore/a/b');
    for (const bad of ['/etc/passwd', '../escape', 'a/../../escape', 'a/..', '', 'C:/windows', 'x\0y']) {
      assert.equal(entryTarget('/restore', bad), null, bad);
    }
  });
});

describe('extractFiles', () => {
  it('writes files and directories with their modes, skips links and escaping names, overwrites in place', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-extract-'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'old.txt'), 'old');
    const result = await extractFiles(
      tarOf([
        { name: 'etc/', type: 'directory' },
        { name: 'etc/old.txt', body: 'new' },
        { name: 'etc/app/config.yml', body: 'key: value' },
        { name: '../outside.txt', body: 'x' },
        { name: '/abs.txt', body: 'x' },
        { name: 'etc/link', type: 'symlink', linkname: '/etc/passwd' },
      ]),
      { root, allowed: [root] },
    );
    assert.equal(result.restored, 2);
    assert.deepEqual(result.skipped.sort(), ['../outside.txt', '/abs.txt', 'etc/link'].sort());
    assert.equal(readFileSync(join(root, 'etc', 'old.txt'), 'utf8'), 'new');
    assert.equal(readFileSync(join(root, 'etc', 'app', 'config.yml'), 'utf8'), 'key: value');
    assert.equal(existsSync(join(root, '..', 'outside.txt')), false);
    assert.equal(existsSync(join(root, 'etc', 'link')), false);
  });

  it('never follows a symlinked directory out of the root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-extract-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'pgb-elsewhere-'));
    symlinkSync(elsewhere, join(root, 'sneaky'));
    await assert.rejects(extractFiles(tarOf([{ name: 'sneaky/planted.txt', body: 'x' }]), { root, allowed: [root] }), /sneaky is a symbolic link/);
    assert.equal(existsSync(join(elsewhere, 'planted.txt')), false);
  });

  it('refuses a symlink at any depth, even one that points back inside the root, and creates nothing beyond it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-extract-'));
    mkdirSync(join(root, 'a', 'real'), { recursive: true });
    symlinkSync(join(root, 'a', 'real'), join(root, 'a', 'swapped'));
    await assert.rejects(extractFiles(tarOf([{ name: 'a/swapped/deeper/x.txt', body: 'x' }]), { root, allowed: [root] }), /a\/swapped is a symbolic link/);
    assert.equal(existsSync(join(root, 'a', 'real', 'deeper')), false, 'no mkdir -p through the link');
    await assert.rejects(extractFiles(tarOf([{ name: 'a/swapped/', type: 'directory' }]), { root, allowed: [root] }), /symbolic link/);
  });

  it('writes only on or under the allowed paths (in place: the include paths), skipping the rest', async () => {
    const base = mkdtempSync(join(tmpdir(), 'pgb-inplace-'));
    mkdirSync(join(base, 'uploads'));
    writeFileSync(join(base, 'app.env'), 'old');
    const allowed = [join(base, 'uploads'), join(base, 'app.env')];
    const rel = base.slice(1);
    const result = await extractFiles(
      tarOf([
        { name: `${rel}/uploads/a/b.txt`, body: 'b' },
        { name: `${rel}/app.env`, body: 'new' },
        { name: `${rel}/other.txt`, body: 'x' },
        { name: 'etc/cron.d/evil', body: 'x' },
      ]),
      { root: '/', allowed },
    );
    assert.equal(result.restored, 2);
    assert.deepEqual(result.skipped.sort(), ['etc/cron.d/evil', `${rel}/other.txt`].sort());
    assert.equal(readFileSync(join(base, 'uploads', 'a', 'b.txt'), 'utf8'), 'b');
    assert.equal(readFileSync(join(base, 'app.env'), 'utf8'), 'new');
    assert.equal(existsSync(join(base, 'other.txt')), false);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pgb-extract-'));
    const victim = join(mkdtempSync(join(tmpdir(), 'pgb-victim-')), 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(root, 'file.txt'));
    await extractFiles(tarOf([{ name: 'file.txt', body: 'restored' }]), { root, allowed: [root] });
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.equal(readFileSync(join(root, 'file.txt'), 'utf8'), 'restored');
  });
});
