/** The setup the credential store's test files share: the seed auth file, a proxy, stores closed after the file. */

import { CredentialStore } from "../../src/auth/index.js";
import { afterAll, beforeAll } from "vitest";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { makeProxyChain, type ProxyChain } from "./fixtures/proxy-chain.js";
import { captureLogs, makeTempDir, type LogCapture, writeAuthFile } from "./helpers.js";

export interface StoreSuite {
  readonly capture: LogCapture;
  /** Every secret the file's scenarios used: none may reach a log or an error. */
  readonly secrets: string[];
  /** Set once the file's setup has run. */
  dir: string;
  chain: ProxyChain;
  seedFile: string;
  /** A store on `authFile`'s `section`, logging to `capture`, closed after the file. */
  store(authFile: string, section: string): CredentialStore;
}

/** Registers the file's setup and teardown; call once at the top of a test file. */
export function storeSuite(secrets: readonly string[]): StoreSuite {
  const stores: CredentialStore[] = [];
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  const suite: StoreSuite = {
    capture: captureLogs(),
    secrets: [...secrets],
    dir: "",
    chain: undefined as unknown as ProxyChain,
    seedFile: "",
    store(authFile, section) {
      const s = new CredentialStore({ authFile, section, logger: suite.capture.logger });
      stores.push(s);
      return s;
    },
  };
  beforeAll(async () => {
    tmp = await makeTempDir();
    suite.dir = tmp.dir;
    suite.chain = await makeProxyChain({ secondsLeft: 3600, voms: { vo: "dteam" } });
    suite.secrets.push(suite.chain.proxyPem, suite.chain.proxyKeyPem);
    suite.seedFile = await writeAuthFile(tmp.dir, "cloud.auth", SEED_AUTH_FILE);
  });
  afterAll(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await tmp?.cleanup();
  });
  return suite;
}
