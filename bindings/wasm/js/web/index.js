// Browsers and bundlers: an ES module that instantiates the wasm module
// (fetched next to this file) before it resolves, so that
// `import { Keystore } from 'strongroom'` is ready to use. strongroomApi
// checks handles before the glue sees them, as in the Node entry.
import init, * as wasm from './strongroom.js';

await init({ module_or_path: new URL('./strongroom_bg.wasm', import.meta.url) });

const api = wasm.strongroomApi({
  Keystore: wasm.Keystore,
  Keyring: wasm.Keyring,
  MessageEncryptor: wasm.MessageEncryptor,
  MessageDecryptor: wasm.MessageDecryptor,
  encryptMessage: wasm.encryptMessage,
  decryptMessage: wasm.decryptMessage,
});

export const {
  Keystore,
  Keyring,
  MessageEncryptor,
  MessageDecryptor,
  encryptMessage,
  decryptMessage,
  StrongroomError,
} = api;
