// What web/index.js exports: the API (the module is instantiated on import),
// not wasm-bindgen's `initSync` / default `init`, which the entry calls itself.
export type * from "./strongroom.js";
export {
  Keystore,
  Keyring,
  MessageEncryptor,
  MessageDecryptor,
  encryptMessage,
  decryptMessage,
} from "./strongroom.js";
import type { StrongroomErrorCode } from "./strongroom.js";

/** Every failure: `code` is the AWS KMS exception name. */
export declare class StrongroomError extends Error {
  constructor(code: StrongroomErrorCode, message: string);
  readonly name: "StrongroomError";
  readonly code: StrongroomErrorCode;
}
