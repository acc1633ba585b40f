/**
 * `cloudce/testing`: helpers for people writing and testing drivers.
 * The shared conformance suite itself lives in test/drivers/conformance.ts
 * (it needs vitest): see docs/drivers/writing-a-driver.md.
 */
export { MemoryCloud, type MemoryCloudOptions, type MemoryFaults } from "./testing/memory-driver.js";
