'use strict';
// Node.js, CommonJS: the wasm module is loaded synchronously from node/.
const wasm = require('./node/strongroom.js');

module.exports = {
  Keystore: wasm.Keystore,
  Keyring: wasm.Keyring,
  MessageEncryptor: wasm.MessageEncryptor,
  MessageDecryptor: wasm.MessageDecryptor,
  encryptMessage: wasm.encryptMessage,
  decryptMessage: wasm.decryptMessage,
  StrongroomError: wasm.strongroomErrorClass(),
};
