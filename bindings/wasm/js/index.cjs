'use strict';
// Node.js, CommonJS: the wasm module is loaded synchronously from node/.
// strongroomApi checks handles before the glue sees them (a freed handle or
// a wrong argument throws StrongroomError, `free()` twice does nothing).
const wasm = require('./node/strongroom.js');

module.exports = wasm.strongroomApi({
  Keystore: wasm.Keystore,
  Keyring: wasm.Keyring,
  MessageEncryptor: wasm.MessageEncryptor,
  MessageDecryptor: wasm.MessageDecryptor,
  encryptMessage: wasm.encryptMessage,
  decryptMessage: wasm.decryptMessage,
});
