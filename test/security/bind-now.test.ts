// The addon takes its AES-GCM from the OpenSSL inside the node binary, not from a library of
// its own. Symbols are normally bound lazily, on first call, so an OpenSSL function the node
// binary does not export would only fail when the first packet is sealed — as an abort on the
// runtime thread. Loading with LD_BIND_NOW=1 binds every symbol at dlopen, so a missing one
// fails here, at once, with the symbol's name.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/addon';

const script = `
const addon = require('node-gyp-build')(${JSON.stringify(projectRoot)});
const keys = new addon.envelope.Keyring();
keys.add(Buffer.alloc(32, 7));
const packet = addon.codec.encode([{ type: 'ping', seq: 1, source: 'a', target: 'b' }]);
const opened = addon.envelope.open(addon.envelope.seal(packet, keys, 'c'), keys, 'c');
process.stdout.write(opened.ok && opened.packet.equals(packet) ? 'sealed and opened' : 'failed');
`;

function addonPath(): string {
  const resolved = execFileSync(
    process.execPath,
    ['-e', `process.stdout.write(require('node-gyp-build').resolve(${JSON.stringify(projectRoot)}))`],
    { cwd: projectRoot },
  ).toString();
  return path.resolve(projectRoot, resolved);
}

describe('OpenSSL symbols', () => {
  it('the addon needs OpenSSL functions from the process rather than carrying its own', () => {
    const undefinedSymbols = execFileSync('nm', ['-D', '--undefined-only', addonPath()]).toString();
    for (const symbol of ['EVP_EncryptInit_ex', 'EVP_DecryptFinal_ex', 'EVP_CIPHER_fetch', 'RAND_bytes']) {
      expect(undefinedSymbols).toMatch(new RegExp(`\\b${symbol}\\b`));
    }
  });

  it('the addon loads with LD_BIND_NOW=1 and seals and opens a packet', () => {
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: projectRoot,
      env: { ...process.env, LD_BIND_NOW: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('sealed and opened');
  });
});
