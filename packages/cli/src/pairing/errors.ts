/** The error codes of pairing and trust (core's ErrorCodes holds them: scripts match on them). */
import { ErrorCodes, RoamError } from '@roam/core';

export const TrustErrorCodes = {
  PAIR_CODE_CHECKSUM: ErrorCodes.PAIR_CODE_CHECKSUM,
  PAIR_CODE_INVALID: ErrorCodes.PAIR_CODE_INVALID,
  PAIR_EXPIRED: ErrorCodes.PAIR_EXPIRED,
  PAIR_UNREACHABLE: ErrorCodes.PAIR_UNREACHABLE,
  PAIR_PROOF: ErrorCodes.PAIR_PROOF,
  PAIR_REFUSED: ErrorCodes.PAIR_REFUSED,
  ALREADY_PAIRED: ErrorCodes.ALREADY_PAIRED,
  NOT_IN_GROUP: ErrorCodes.NOT_IN_GROUP,
  UNKNOWN_DEVICE: ErrorCodes.UNKNOWN_DEVICE,
  APPROVAL_REFUSED: ErrorCodes.APPROVAL_REFUSED,
} as const;

export type TrustErrorCode = (typeof TrustErrorCodes)[keyof typeof TrustErrorCodes];

export function trustError(code: TrustErrorCode, message: string, options?: { cause?: unknown }): RoamError {
  return new RoamError(code, message, undefined, options);
}
