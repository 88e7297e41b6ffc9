export * from "./strongroom.js";
import type { StrongroomErrorCode } from "./strongroom.js";

/** Every failure: `code` is the AWS KMS exception name. */
export declare class StrongroomError extends Error {
  constructor(code: StrongroomErrorCode, message: string);
  readonly name: "StrongroomError";
  readonly code: StrongroomErrorCode;
}
