import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { compileLegacyWasm, generatedModule } from '../../../src/core/crypto/wasm/compile.mjs';
import { LEGACY_WASM_BASE64, LEGACY_WASM_SHA256 } from '../../../src/core/crypto/wasm/legacy-wasm.generated.js';

describe('the embedded WebAssembly module', () => {
  it('is exactly what the pinned AssemblyScript compiles from assembly/legacy.ts (reproducible, not stale)', async () => {
    const { bytes, version } = (await compileLegacyWasm()) as { bytes: Uint8Array; version: string };
    const committed = readFileSync(new URL('../../../src/core/crypto/wasm/legacy-wasm.generated.ts', import.meta.url), 'utf8');
    expect(generatedModule(bytes, version)).toBe(committed);
    expect(Buffer.from(bytes).toString('base64')).toBe(LEGACY_WASM_BASE64);
  }, 60_000);

  it('imports nothing and exports only the cipher entry points and its memory', () => {
    const bytes = Buffer.from(LEGACY_WASM_BASE64, 'base64');
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(WebAssembly.Module.exports(mod).map((e) => e.name).sort()).toEqual(
      ['dataPtr', 'desCbc', 'desSetup', 'ivPtr', 'keyPtr', 'memory', 'rc2Cbc', 'rc2KeyPtr', 'wipe'],
    );
    expect(LEGACY_WASM_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });
});
