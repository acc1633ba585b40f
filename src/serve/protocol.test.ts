import { describe, expect, it } from "vitest";
import { RPC_ERRORS, type RpcError, parseRequest, salvageId } from "./protocol.js";

const codeOf = (value: unknown): number => {
  try {
    parseRequest(value);
  } catch (err) {
    return (err as RpcError).code;
  }
  return 0;
};

describe("parseRequest", () => {
  it("accepts a request and a notification (no id)", () => {
    expect(parseRequest({ jsonrpc: "2.0", id: 3, method: "open", params: { ceName: "a" } })).toEqual({
      jsonrpc: "2.0",
      id: 3,
      method: "open",
      params: { ceName: "a" },
    });
    expect(parseRequest({ jsonrpc: "2.0", method: "close" })).toEqual({ jsonrpc: "2.0", method: "close" });
  });

  it.each([
    [[{ jsonrpc: "2.0", method: "open" }], RPC_ERRORS.InvalidRequest],
    ["open", RPC_ERRORS.InvalidRequest],
    [{ method: "open" }, RPC_ERRORS.InvalidRequest],
    [{ jsonrpc: "2.0", method: "" }, RPC_ERRORS.InvalidRequest],
    [{ jsonrpc: "2.0", method: "open", id: { x: 1 } }, RPC_ERRORS.InvalidRequest],
    [{ jsonrpc: "2.0", method: "open", params: [1] }, RPC_ERRORS.InvalidParams],
  ])("refuses %j with code %i", (value, code) => {
    expect(codeOf(value)).toBe(code);
  });

  it("salvages a usable id for the error answer, else null", () => {
    expect(salvageId({ id: 5, jsonrpc: "1.0" })).toBe(5);
    expect(salvageId({ id: [1] })).toBeNull();
    expect(salvageId([{ id: 1 }])).toBeNull();
  });
});
