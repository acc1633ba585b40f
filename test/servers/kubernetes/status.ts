/** `Status` objects: how the API server answers a failure. */

export interface StatusDetails {
  readonly name?: string;
  readonly kind?: string;
  readonly causes?: readonly { readonly reason?: string; readonly field?: string; readonly message?: string }[];
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: StatusDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}
