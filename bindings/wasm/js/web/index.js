// Browsers and bundlers: an ES module that instantiates the wasm module
// (fetched next to this file) before it resolves, so that
// `import { Keystore } from 'strongroom'` is ready to use.
import init, { strongroomErrorClass } from './strongroom.js';

await init({ module_or_path: new URL('./strongroom_bg.wasm', import.meta.url) });

export {
  Keystore,
  Keyring,
  MessageEncryptor,
  MessageDecryptor,
  encryptMessage,
  decryptMessage,
} from './strongroom.js';
export const StrongroomError = strongroomErrorClass();
