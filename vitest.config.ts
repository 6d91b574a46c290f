/**
 * Two test projects:
 * - "workers": unit and integration tests inside workerd (@cloudflare/vitest-plugin), with the bindings of
 *   wrangler.toml backed by real local D1 and Queues; migrations are applied by test/setup/apply-migrations.ts.
 * - "e2e": Node tests that start the real Worker with `wrangler dev` and talk HTTP to it, as Okta would.
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import {
  isolatedConfig,
  TEST_ADMIN_TOKEN,
  TEST_EVENT_SECRET_NEW,
  TEST_EVENT_SECRET_OLD,
  TEST_INLINE_SECRET,
  TEST_SECRETS_ENCRYPTION_KEY,
} from "./test/test-config.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      // Log lines of passing tests are noise in CI; a failing test still shows its own.
      silent: "passed-only" as const,
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // Test-only bindings: the migrations to apply, and the configuration (known secrets, nothing else set).
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ...isolatedConfig({
                    EVENT_HOOK_SECRETS: `${TEST_EVENT_SECRET_OLD},${TEST_EVENT_SECRET_NEW}`,
                    INLINE_HOOK_SECRETS: TEST_INLINE_SECRET,
                    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
                    SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
                    // Tests read the inline hook audit right after each call; the buffering itself is tested with
                    // its own values (test/integration/inline-audit.test.ts).
                    INLINE_AUDIT_FLUSH_MS: "0",
                  }),
                },
                compatibilityFlags: ["service_binding_extra_handlers"],
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
            setupFiles: ["./test/setup/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "e2e",
            environment: "node",
            include: ["test/e2e/**/*.test.ts"],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            // One wrangler dev per file; files run one after another on this 2-core machine.
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
