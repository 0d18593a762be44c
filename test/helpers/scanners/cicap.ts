import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  exchange,
  freePort,
  makeTempDir,
  removeDir,
  requireBinary,
  spawnManaged,
  stopManaged,
  waitUntilReady,
} from './common.js';

const MODULES_DIRS = ['/usr/lib/x86_64-linux-gnu/c_icap', '/usr/lib/aarch64-linux-gnu/c_icap', '/usr/lib/c_icap'];

export interface CicapOptions {
  clamdSocket: string;
  /** Debian's stock virus_scan settings (the fail-open ones) instead of the safe ones from the notes. */
  stock?: boolean;
}

export interface CicapHandle {
  readonly port: number;
  /** The safe service alias (sizelimit=off, allow204=on). */
  readonly avscanUrl: string;
  /** The plain service name, subject to MaxObjectSize. */
  readonly virusScanUrl: string;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
  log(): string;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

export async function startCicap(opts: CicapOptions): Promise<CicapHandle> {
  const cicap = requireBinary('c-icap', ['/usr/bin/c-icap', '/usr/sbin/c-icap', '/usr/local/bin/c-icap']);
  const modulesDir = MODULES_DIRS.find((d) => existsSync(join(d, 'virus_scan.so')) && existsSync(join(d, 'clamd_mod.so')));
  if (!modulesDir) {
    throw new Error('c-icap virus_scan/clamd_mod modules not found: apt-get install libc-icap-mod-virus-scan');
  }
  const asRoot = process.getuid?.() === 0;
  // As root c-icap drops privileges; as a normal user it keeps running as that user.
  const user = asRoot ? lookupUser('c-icap') : undefined;
  const dir = makeTempDir('unseal-cicap-');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { mode: 0o755 });
  const serverLog = join(dir, 'server.log');
  const accessLog = join(dir, 'access.log');
  // Pre-created and owned by c-icap: otherwise logging silently stops once privileges are dropped.
  for (const f of [serverLog, accessLog]) writeFileSync(f, '');
  if (user) for (const p of [tmp, serverLog, accessLog, dir]) chownSync(p, user.uid, user.gid);
  const port = await freePort();
  const conf = [
    `PidFile ${join(dir, 'c-icap.pid')}`,
    `CommandsSocket ${join(dir, 'c-icap.ctl')}`,
    'Timeout 60',
    'StartServers 1',
    'MaxServers 2',
    'MinSpareThreads 2',
    'MaxSpareThreads 8',
    'ThreadsPerChild 8',
    `Port 127.0.0.1:${port}`,
    ...(user ? ['User c-icap', 'Group nogroup'] : []),
    `TmpDir ${tmp}`,
    'MaxMemObject 131072',
    'DebugLevel 1',
    `ModulesDir ${modulesDir}`,
    `ServicesDir ${modulesDir}`,
    'TemplateDir /usr/share/c_icap/templates/',
    'TemplateDefaultLanguage en',
    'LoadMagicFile /etc/c-icap/c-icap.magic',
    `ServerLog ${serverLog}`,
    `AccessLog ${accessLog}`,
    `Include ${join(dir, 'virus_scan.conf')}`,
  ];
  const scanConf = [
    // clamd_mod hands the temp file's descriptor to clamd (zFILDES), so clamd needs no file access.
    'Module common clamd_mod.so',
    `clamd_mod.ClamdSocket ${opts.clamdSocket}`,
    'Service antivirus_module virus_scan.so',
    'ServiceAlias avscan virus_scan?allow204=on&sizelimit=off&mode=simple',
    'virus_scan.DefaultEngine clamd',
    'virus_scan.PassOnError off',
    'virus_scan.Allow204Responces on',
    ...(opts.stock
      ? [
          'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE',
          'virus_scan.SendPercentData 5',
          'virus_scan.StartSendPercentDataAfter 2M',
          'virus_scan.MaxObjectSize 5M',
        ]
      : [
          'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT',
          'virus_scan.SendPercentData 0',
          'virus_scan.StartSendPercentDataAfter 200M',
          'virus_scan.MaxObjectSize 100M',
        ]),
  ];
  writeFileSync(join(dir, 'c-icap.conf'), conf.join('\n') + '\n');
  writeFileSync(join(dir, 'virus_scan.conf'), scanConf.join('\n') + '\n');
  const m = spawnManaged(cicap, ['-N', '-f', join(dir, 'c-icap.conf')]);
  const readLog = () => (existsSync(serverLog) ? readFileSync(serverLog, 'utf8').slice(-4000) : '');
  try {
    await waitUntilReady(
      'c-icap',
      m,
      async () => {
        const r = await exchange(
          { host: '127.0.0.1', port },
          `OPTIONS icap://127.0.0.1:${port}/avscan ICAP/1.0\r\nHost: 127.0.0.1:${port}\r\nEncapsulated: null-body=0\r\n\r\n`,
          (b) => b.includes('\r\n\r\n'),
        );
        return r.toString().startsWith('ICAP/1.0 200');
      },
      20_000,
      readLog,
    );
  } catch (e) {
    removeDir(dir);
    throw e;
  }
  return {
    port,
    avscanUrl: `icap://127.0.0.1:${port}/avscan`,
    virusScanUrl: `icap://127.0.0.1:${port}/virus_scan`,
    dir,
    pid: m.child.pid ?? -1,
    log: readLog,
    async stop() {
      await stopManaged(m);
      removeDir(dir);
    },
  };
}
