/** What the test-tree OpenStack cloud holds unless a test says otherwise: users, application credentials, flavors, images, networks. */

import type { TestAppCredential, TestFlavor, TestImage, TestNetwork, TestUser } from "./cloud-state.js";

export function testUsers(): TestUser[] {
  return [
    {
      id: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
      name: "demo",
      domain: "Default",
      password: "demo-password-1",
      projects: ["demo"],
    },
    {
      id: "b1b2c3d4e5f60718293a4b5c6d7e8f90",
      name: "alice",
      domain: "Default",
      password: "alice-password-1",
      projects: ["other"],
    },
  ];
}

export function testAppCredentials(): TestAppCredential[] {
  return [
    {
      id: "appcred0000000000000000000000001",
      name: "robot",
      secret: "robot-secret-1",
      userName: "demo",
      project: "demo",
    },
  ];
}

export function testFlavors(): TestFlavor[] {
  return [
    { id: "1", name: "m1.tiny", vcpus: 1, ram: 512, disk: 1 },
    { id: "2", name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
    { id: "3", name: "m1.medium", vcpus: 2, ram: 4096, disk: 40 },
  ];
}

export function testImages(): TestImage[] {
  return [
    {
      id: "6c1f1e0a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
      name: "cirros-fake",
      status: "active",
      created_at: "2026-01-01T00:00:00Z",
    },
    { id: "7d2a2f1b-3c4d-4e5f-9a01-b2c3d4e5f6a7", name: "twin", status: "active", created_at: "2026-01-02T00:00:00Z" },
    { id: "8e3b3a2c-4d5e-4f6a-8b12-c3d4e5f6a7b8", name: "twin", status: "active", created_at: "2026-01-03T00:00:00Z" },
    {
      id: "9f4c4b3d-5e6f-4a7b-9c23-d4e5f6a7b8c9",
      name: "queued-image",
      status: "queued",
      created_at: "2026-01-04T00:00:00Z",
    },
  ];
}

export function testNetworks(): TestNetwork[] {
  return [
    { id: "1a2b3c4d-1111-4222-8333-444455556666", name: "private" },
    { id: "2b3c4d5e-2222-4333-9444-555566667777", name: "public" },
  ];
}
