// Type-checked with `tsc --noEmit` (scripts/test-wasm.sh): the browser
// entry's declarations (strongroom/web) name what web/index.js exports.
// Never executed.
import * as web from "strongroom/web";
import { Keystore, Keyring, StrongroomError, encryptMessage, type EncryptRequest, type KeySpec } from "strongroom/web";

export function exerciseWeb(rootKey: Uint8Array): void {
  const ks: Keystore = Keystore.create({ rootKey });
  const spec: KeySpec = "ECC_NIST_P256";
  const keyId = ks.createKey({ keySpec: spec, keyUsage: "SIGN_VERIFY" }).keyMetadata.keyId;
  const req: EncryptRequest = { keyId, plaintext: new Uint8Array(1) };
  const kr = Keyring.rawAes({ keyNamespace: "n", keyName: "k", wrappingKey: rootKey });
  const message: Uint8Array = encryptMessage(kr, req.plaintext);
  const e: StrongroomError | undefined = undefined;
  void message;
  void e;
  // web/index.js instantiates the module itself and does not export the
  // glue's initializers: the declarations must not offer them as values.
  // @ts-expect-error initSync is not exported by web/index.js
  web.initSync(new Uint8Array(0));
}
