import { afterEach, describe, expect, it } from "vitest";
import { clearSecretsForTesting, registerSecret, scrubSecrets, SecretSlot } from "./secrets.js";

afterEach(() => clearSecretsForTesting());

describe("secret slots", () => {
  it("drops a superseded secret and scrubs its successor", () => {
    const token = new SecretSlot();
    token.set("keystone-token-one");
    expect(scrubSecrets("t=keystone-token-one")).toBe("t=[secret]");
    token.set("keystone-token-two");
    expect(scrubSecrets("t=keystone-token-two")).toBe("t=[secret]");
    expect(scrubSecrets("t=keystone-token-one")).toBe("t=keystone-token-one");
    token.clear();
    expect(scrubSecrets("t=keystone-token-two")).toBe("t=keystone-token-two");
  });

  it("keeps a value that another holder still has", () => {
    const a = new SecretSlot();
    const b = new SecretSlot();
    a.set("shared-password");
    b.set("shared-password");
    a.set("other-password");
    expect(scrubSecrets("shared-password other-password")).toBe("[secret] [secret]");
    registerSecret("forever-secret");
    b.clear();
    a.clear();
    expect(scrubSecrets("shared-password forever-secret")).toBe("shared-password [secret]");
  });

  it("stays small however many tokens come and go", () => {
    const slot = new SecretSlot();
    for (let i = 0; i < 1000; i++) slot.set(`token-number-${i}`);
    expect(scrubSecrets("token-number-0 token-number-998 token-number-999")).toBe(
      "token-number-0 token-number-998 [secret]",
    );
  });
});

describe("short secrets", () => {
  it("scrubs a secret shorter than 6 characters where it stands as a whole token", () => {
    registerSecret("x9Q");
    expect(scrubSecrets("password x9Q rejected")).toBe("password [secret] rejected");
    expect(scrubSecrets('{"secret":"x9Q"}')).toBe('{"secret":"[secret]"}');
    expect(scrubSecrets("pw=x9Q")).toBe("pw=[secret]");
  });

  it("leaves words that merely contain a short secret alone", () => {
    registerSecret("net");
    expect(scrubSecrets("the network is down")).toBe("the network is down");
    expect(scrubSecrets("internet, net, cabinet")).toBe("internet, [secret], cabinet");
  });

  it("scrubs a longer secret before a shorter one inside it, so no part leaks", () => {
    registerSecret("abcdef");
    registerSecret("abcdefghij");
    expect(scrubSecrets("k=abcdefghij")).toBe("k=[secret]");
  });

  it("never registers an empty value", () => {
    registerSecret("");
    expect(scrubSecrets("a b")).toBe("a b");
  });
});
