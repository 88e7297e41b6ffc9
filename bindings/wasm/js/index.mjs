// Node.js, ES module: the same instance as the CommonJS entry.
import { createRequire } from 'node:module';

const cjs = createRequire(import.meta.url)('./index.cjs');

export const {
  Keystore,
  Keyring,
  MessageEncryptor,
  MessageDecryptor,
  encryptMessage,
  decryptMessage,
  StrongroomError,
} = cjs;
