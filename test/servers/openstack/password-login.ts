/** A Keystone v3 password login over plain HTTP, as tests and the benchmark make one beside the driver. */

export interface PasswordUser {
  readonly name: string;
  readonly password: string;
}

/** POSTs /v3/auth/tokens for `user` (domain Default), scoped to `project` when given; the answer as fetch gives it. */
export function passwordLogin(authUrl: string, user: PasswordUser, project?: string): Promise<Response> {
  return fetch(`${authUrl}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: user.name, domain: { name: "Default" }, password: user.password } },
        },
        ...(project === undefined ? {} : { scope: { project: { name: project, domain: { name: "Default" } } } }),
      },
    }),
  });
}
