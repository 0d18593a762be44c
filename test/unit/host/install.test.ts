import { describe, expect, it } from 'vitest';
import { describeInstall, launcherNode, launcherText, planInstall, readClamdConf, isLocalClamd, formatCheck } from '../../../src/host/install.js';

const base = { nodePath: '/usr/bin/node', hostScript: '/opt/unseal/dist/host/unseal-host.mjs', system: false };

describe('planInstall per platform', () => {
  it('Linux: ~/.mozilla/native-messaging-hosts, or /usr/lib/mozilla/... with --system', () => {
    const p = planInstall({ ...base, platform: 'linux', env: { HOME: '/home/ann' }, scanner: 'clamd+unix:///run/clamav/clamd.ctl' });
    expect(p.manifestPath).toBe('/home/ann/.mozilla/native-messaging-hosts/unseal_host.json');
    expect(p.launcherPath).toBe('/home/ann/.mozilla/native-messaging-hosts/unseal-host');
    expect(p.configPath).toBe('/home/ann/.mozilla/native-messaging-hosts/host-config.json');
    expect(p.manifest).toEqual({
      name: 'unseal_host',
      description: expect.any(String),
      path: '/home/ann/.mozilla/native-messaging-hosts/unseal-host',
      type: 'stdio',
      allowed_extensions: ['unseal@unseal.example'],
    });
    expect(p.launcher).toBe('#!/bin/sh\nexec "/usr/bin/node" "/opt/unseal/dist/host/unseal-host.mjs" "$@"\n');
    expect(p.registry).toBeUndefined();
    expect(planInstall({ ...base, platform: 'linux', env: { HOME: '/home/ann' }, system: true }).manifestPath).toBe('/usr/lib/mozilla/native-messaging-hosts/unseal_host.json');
  });

  it('macOS: ~/Library/Mozilla/NativeMessagingHosts (not Application Support) for the user', () => {
    expect(planInstall({ ...base, platform: 'darwin', env: { HOME: '/Users/ann' } }).manifestPath).toBe('/Users/ann/Library/Mozilla/NativeMessagingHosts/unseal_host.json');
    expect(planInstall({ ...base, platform: 'darwin', env: { HOME: '/Users/ann' }, system: true }).manifestPath).toBe(
      '/Library/Application Support/Mozilla/NativeMessagingHosts/unseal_host.json',
    );
  });

  it('Windows: JSON in %LOCALAPPDATA%\\Unseal, a .cmd launcher and reg.exe under HKCU (HKLM with --system)', () => {
    const win = { nodePath: 'C:\\Program Files\\nodejs\\node.exe', hostScript: 'C:\\Unseal\\dist\\host\\unseal-host.mjs' };
    const p = planInstall({ ...win, system: false, platform: 'win32', env: { USERPROFILE: 'C:\\Users\\ann', LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' } });
    expect(p.manifestPath).toBe('C:\\Users\\ann\\AppData\\Local\\Unseal\\unseal_host.json');
    expect(p.manifest.path).toBe('C:\\Users\\ann\\AppData\\Local\\Unseal\\unseal-host.cmd');
    expect(p.launcher).toBe('@echo off\r\n"C:\\Program Files\\nodejs\\node.exe" "C:\\Unseal\\dist\\host\\unseal-host.mjs" %*\r\n');
    expect(p.registry!.add).toEqual([
      'reg.exe',
      'add',
      'HKCU\\Software\\Mozilla\\NativeMessagingHosts\\unseal_host',
      '/ve',
      '/t',
      'REG_SZ',
      '/d',
      'C:\\Users\\ann\\AppData\\Local\\Unseal\\unseal_host.json',
      '/f',
    ]);
    expect(p.registry!.delete).toEqual(['reg.exe', 'delete', 'HKCU\\Software\\Mozilla\\NativeMessagingHosts\\unseal_host', '/f']);
    expect(describeInstall(p).at(-1)).toBe(
      'run reg.exe add HKCU\\Software\\Mozilla\\NativeMessagingHosts\\unseal_host /ve /t REG_SZ /d C:\\Users\\ann\\AppData\\Local\\Unseal\\unseal_host.json /f',
    );
    const sys = planInstall({ ...win, system: true, platform: 'win32', env: { USERPROFILE: 'C:\\Users\\ann', ProgramData: 'C:\\ProgramData' } });
    expect(sys.manifestPath).toBe('C:\\ProgramData\\Unseal\\unseal_host.json');
    expect(sys.registry!.add[2]).toBe('HKLM\\Software\\Mozilla\\NativeMessagingHosts\\unseal_host');
  });

  it('Windows without LOCALAPPDATA falls back to the profile AppData\\Local', () => {
    const p = planInstall({ nodePath: 'C:\\node.exe', hostScript: 'C:\\h.mjs', system: false, platform: 'win32', env: { USERPROFILE: 'C:\\Users\\bob' } });
    expect(p.manifestPath).toBe('C:\\Users\\bob\\AppData\\Local\\Unseal\\unseal_host.json');
  });

  it('refuses a scanner URL the scanners cannot parse, as a usage error', () => {
    expect(() => planInstall({ ...base, platform: 'linux', env: { HOME: '/h' }, scanner: 'bogus://x' })).toThrow(expect.objectContaining({ kind: 'usage', message: expect.stringContaining('unknown scheme bogus:') }));
    expect(() => planInstall({ ...base, platform: 'linux', env: { HOME: '/h' }, scanner: '' })).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(planInstall({ ...base, platform: 'linux', env: { HOME: '/h' }, scanner: 'icap://av.example/avscan' }).config).toEqual({ scanner: 'icap://av.example/avscan' });
  });

  it('refuses relative node or host paths (Thunderbird starts the host from its own cwd)', () => {
    expect(() => planInstall({ ...base, nodePath: 'node', platform: 'linux', env: { HOME: '/h' } })).toThrow('node path must be absolute');
  });
});

describe('launcher round trip and helpers', () => {
  it('quotes shell-special characters and reads them back', () => {
    const text = launcherText('linux', '/opt/my "node"/bin/node', '/srv/$HOME/host.mjs');
    expect(text).toBe('#!/bin/sh\nexec "/opt/my \\"node\\"/bin/node" "/srv/\\$HOME/host.mjs" "$@"\n');
    expect(launcherNode(text)).toEqual({ node: '/opt/my "node"/bin/node', script: '/srv/$HOME/host.mjs' });
    expect(launcherNode(launcherText('win32', 'C:\\n\\node.exe', 'C:\\h.mjs'))).toEqual({ node: 'C:\\n\\node.exe', script: 'C:\\h.mjs' });
    expect(launcherNode('#!/bin/sh\nnode host.mjs\n')).toBeUndefined();
  });

  it('reads clamd.conf like clamd: comments, case-insensitive keys, last wins', () => {
    const c = readClamdConf('# AlertExceedsMax yes\nLocalSocket /run/clamav/clamd.ctl\nalertexceedsmax no\nAlertExceedsMax yes\n');
    expect(c.get('alertexceedsmax')).toBe('yes');
    expect(c.get('localsocket')).toBe('/run/clamav/clamd.ctl');
    expect(isLocalClamd('clamd+unix:///run/clamav/clamd.ctl')).toBe(true);
    expect(isLocalClamd('clamd://127.0.0.1:3310')).toBe(true);
    expect(isLocalClamd('clamd://av.example.org:3310')).toBe(false);
    expect(isLocalClamd('icap://127.0.0.1/avscan')).toBe(false);
  });

  it('prints checks as status, what, fix', () => {
    expect(formatCheck({ status: 'ok', what: 'launcher', fix: '/x exists' })).toBe('ok    launcher  /x exists');
    expect(formatCheck({ status: 'fail', what: 'scanner', fix: 'set one' })).toBe('fail  scanner  set one');
  });
});
