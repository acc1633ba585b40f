import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { NovaApi } from "../../src/drivers/openstack/compute.js";
import { transportError as sharedTransportError } from "../../src/drivers/http/transport.js";
import { parseJson } from "../../src/drivers/openstack/http.js";
import { httpError } from "../../src/drivers/openstack/http-errors.js";
import { CREATE_REQUEST, createInDoubt } from "../../src/drivers/openstack/lost-create.js";
import type { OpenStackSession } from "../../src/drivers/openstack/session.js";

/** What the shared client makes of a request that got no answer, as the OpenStack driver words it. */
const transportError = (what: string, err: unknown, timeoutMs: number) =>
  sharedTransportError("OPENSTACK", what, err, { prefix: "", timeoutMs });

/** A session whose every call fails with `err`. */
function failingSession(err: unknown): OpenStackSession {
  return { json: async () => Promise.reject(err) } as unknown as OpenStackSession;
}

const server = {
  name: "VM_1",
  imageRef: "img",
  flavorRef: "fl",
  user_data: "dXNlcg==",
  config_drive: true,
  metadata: {},
};

describe("what an OpenStack error says about its request, read from fields, not its text", () => {
  it("a 5xx or a timeout of the create request may have made servers; the same from Keystone did not", () => {
    const create500 = httpError({ status: 500, body: "{}", what: CREATE_REQUEST });
    expect(create500.request).toBe(CREATE_REQUEST);
    expect(createInDoubt(create500)).toBe(true);
    const timeout = transportError(CREATE_REQUEST, Object.assign(new Error("t"), { name: "TimeoutError" }), 1000);
    expect(createInDoubt(timeout)).toBe(true);
    const keystone = transportError(
      "identity POST /v3/auth/tokens",
      Object.assign(new Error("t"), { name: "TimeoutError" }),
      1000,
    );
    expect(createInDoubt(keystone)).toBe(false);
    expect(createInDoubt(httpError({ status: 400, body: "{}", what: CREATE_REQUEST }))).toBe(false);
  });

  it("a message that merely reads like the create request decides nothing", () => {
    const lookalike = new CloudceError("Timeout", `${CREATE_REQUEST}: no answer within 1000 ms`);
    expect(createInDoubt(lookalike)).toBe(false);
  });

  it("a success answered in HTML is flagged as such, and a create treats it as made", async () => {
    let flagged: unknown;
    try {
      parseJson({ status: 202, headers: {}, body: "<html>ok</html>" }, CREATE_REQUEST);
    } catch (err) {
      flagged = err;
    }
    expect(flagged).toBeInstanceOf(CloudceError);
    expect((flagged as CloudceError).answerNotJson).toBe(true);
    expect(await new NovaApi(failingSession(flagged)).createServer(server)).toEqual({});
  });

  it("another CloudError of the create, without that flag, still fails the create", async () => {
    const other = new CloudceError("CloudError", `${CREATE_REQUEST}: the answer is not JSON (HTTP 202)`);
    await expect(new NovaApi(failingSession(other)).createServer(server)).rejects.toBe(other);
  });
});
