import { describe, expect, expectTypeOf, it } from "vitest";
import { definedProps } from "./defined.js";

describe("definedProps", () => {
  it("drops undefined properties and keeps every other value, falsy ones included", () => {
    const out = definedProps({ a: 1, b: undefined, c: null, d: 0, e: "", f: false });
    expect(out).toEqual({ a: 1, c: null, d: 0, e: "", f: false });
    expect(Object.hasOwn(out, "b")).toBe(false);
  });

  it("makes a property that may be undefined optional, and leaves the others required", () => {
    const maybe = Math.random() > 2 ? "x" : undefined;
    const out = definedProps({ name: "n", maybe });
    expectTypeOf(out).toEqualTypeOf<{ name: string } & { maybe?: string }>();
  });
});
