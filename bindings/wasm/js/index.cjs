'use strict';
// Node.js, CommonJS: the wasm module is loaded synchronously from node/.
const wasm = require('./node/strongroom.js');

module.exports = {
  Keystore: wasm.Keystore,
  StrongroomError: wasm.strongroomErrorClass(),
};
