// Node.js, ES module: the same instance as the CommonJS entry.
import { createRequire } from 'node:module';

const cjs = createRequire(import.meta.url)('./index.cjs');

export const Keystore = cjs.Keystore;
export const StrongroomError = cjs.StrongroomError;
