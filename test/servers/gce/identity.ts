/**
 * Who may call the test cloud: an OAuth 2.0 token endpoint (JWT-bearer
 * assertions checked against the registered service accounts' public keys,
 * and refresh tokens), the metadata server (tokens and the project for
 * cloudce; id, zone and attributes for a pilot VM, as cloud-init's GCE data
 * source reads them), and the bearer tokens every API call must carry.
 */

import { randomBytes, verify } from "node:crypto";
import type { GceCloud } from "./cloud.js";

const METADATA = "/computeMetadata/v1/";

export class Identity {
  private readonly accounts = new Map<string, string>();
  private readonly refreshTokens = new Set<string>();
  private readonly tokens = new Map<string, number>();
  /** The VM the metadata server answers for. */
  vm: string | undefined;
  issued = 0;

  constructor(
    private readonly cloud: GceCloud,
    /** The token endpoint's own URL (the `aud` assertions must name). */
    private readonly tokenUri: () => string,
    private readonly lifetimeSeconds: number,
  ) {}

  addServiceAccount(email: string, publicKeyPem: string): void {
    this.accounts.set(email, publicKeyPem);
  }

  addRefreshToken(token: string): void {
    this.refreshTokens.add(token);
  }

  /** True for `Bearer <a token this server issued and that has not expired>`. */
  authorized(header: string | undefined): boolean {
    const until = this.tokens.get(/^Bearer (.+)$/.exec(header ?? "")?.[1] ?? "");
    return until !== undefined && until > this.cloud.clock.now();
  }

  /** POST /token with a form body. */
  tokenEndpoint(form: URLSearchParams): [number, unknown] {
    const refused = (description: string): [number, unknown] => [
      400,
      { error: "invalid_grant", error_description: description },
    ];
    const grant = form.get("grant_type");
    if (grant === "refresh_token")
      return this.refreshTokens.has(form.get("refresh_token") ?? "")
        ? [200, this.issue()]
        : refused("Token has been expired or revoked.");
    if (grant !== "urn:ietf:params:oauth:grant-type:jwt-bearer")
      return [400, { error: "unsupported_grant_type", error_description: "Invalid grant_type." }];
    const [h, c, s] = (form.get("assertion") ?? "").split(".");
    try {
      const claims = JSON.parse(Buffer.from(c ?? "", "base64url").toString()) as {
        iss?: string;
        aud?: string;
        exp?: number;
        scope?: string;
      };
      const key = this.accounts.get(claims.iss ?? "");
      if (!key || !verify("sha256", Buffer.from(`${h}.${c}`), key, Buffer.from(s ?? "", "base64url")))
        return refused("Invalid JWT Signature.");
      if (claims.aud !== this.tokenUri()) return refused("Invalid JWT: aud is not this token endpoint.");
      if (!claims.scope || (claims.exp ?? 0) * 1000 < this.cloud.clock.now() - 300_000)
        return refused("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.");
      return [200, this.issue()];
    } catch {
      return refused("Invalid JWT.");
    }
  }

  /** GET /computeMetadata/v1/… (text answers are strings). */
  metadata(path: string, flavor: string | string[] | undefined): [number, unknown] {
    if (flavor !== "Google") return [403, "Missing Metadata-Flavor:Google header."];
    const key = path.startsWith(METADATA) ? path.slice(METADATA.length) : "";
    if (key === "instance/service-accounts/default/token") return [200, this.issue()];
    if (key === "project/project-id") return [200, this.cloud.project];
    return this.ownMetadata(key) ?? [404, "not found"];
  }

  private ownMetadata(key: string): [number, unknown] | undefined {
    const inst = this.vm === undefined ? undefined : this.cloud.instances.get(this.vm);
    if (!inst) return undefined;
    const attributes = Object.fromEntries(inst.metadata.map((i) => [i.key, i.value]));
    const answers: Record<string, unknown> = {
      "instance/id": inst.id,
      "instance/zone": `projects/123456789012/zones/${inst.zone}`,
      "instance/hostname": `${inst.name}.${inst.zone}.c.${this.cloud.project}.internal`,
      "instance/attributes/": JSON.stringify(attributes),
      "project/attributes/": "{}",
    };
    if (key in answers) return [200, answers[key]];
    const attribute = /^instance\/attributes\/(.+)$/.exec(key)?.[1];
    return attribute !== undefined && attribute in attributes ? [200, attributes[attribute]] : undefined;
  }

  private issue(): Record<string, unknown> {
    const token = `ya29.test-${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, this.cloud.clock.now() + this.lifetimeSeconds * 1000);
    this.issued += 1;
    return { access_token: token, expires_in: this.lifetimeSeconds, token_type: "Bearer" };
  }
}
