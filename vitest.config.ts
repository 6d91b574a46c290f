/**
 * Test projects:
 * - "workers": unit and integration tests inside workerd (@cloudflare/vitest-plugin), with the bindings of
 *   wrangler.toml backed by real local D1 and Queues; migrations are applied by test/setup/apply-migrations.ts.
 * - "e2e": Node tests that start the real Worker with `wrangler dev` and talk HTTP to it, as Okta would.
 * - "tools": Node tests of the command-line tools (tools/: the Okta simulator, the tail renderer) without a Worker.
 * - "browser": the dashboard at /admin and the admin API's reference page at /admin/api/docs in Debian's chromium
 *   (playwright-core) against `wrangler dev`.
 * - "resilience" and "resilience-e2e": the resilience suite (`npm run test:resilience`, docs/testing.md): the same
 *   two kinds, for failures injected inside workerd (D1, queue sends, destinations, the clock) and for the real
 *   Worker under sustained load and restarts. `npm test` runs the first four projects, CI runs all six.
 *
 * The dashboard's static files (dashboard/build.ts) and the admin API's reference page (api-reference/build.ts) are
 * built first: the Worker serves them at /admin and /admin/api/docs.
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations, type D1Migration } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildApiReference } from "./api-reference/build.ts";
import { buildDashboard } from "./dashboard/build.ts";
import {
  isolatedConfig,
  TEST_ADMIN_TOKEN,
  TEST_EVENT_SECRET_NEW,
  TEST_EVENT_SECRET_OLD,
  TEST_INLINE_SECRET,
  TEST_SECRETS_ENCRYPTION_KEY,
} from "./test/test-config.ts";

/** The secrets of the workers tests, as bindings. */
const TEST_SECRETS = {
  EVENT_HOOK_SECRETS: `${TEST_EVENT_SECRET_OLD},${TEST_EVENT_SECRET_NEW}`,
  INLINE_HOOK_SECRETS: TEST_INLINE_SECRET,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
};

// wrangler.toml declares these secrets ([secrets] required). Reading it, wrangler looks for them in .dev.vars or,
// without one, in process.env, and warns once per test file about each one missing; the bindings below set them
// anyway. The same values in process.env keep that warning for real problems.
for (const [name, value] of Object.entries(TEST_SECRETS)) process.env[name] ??= value;

/** The seeded fuzzer of every route belongs to the resilience suite (it sends 10,000 requests). */
const ROUTE_FUZZER = "test/integration/route-fuzz.test.ts";

/** The Worker inside workerd, with local D1 and Queues from wrangler.toml and the test configuration. */
function workerd(migrations: D1Migration[]) {
  return cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      // Test-only bindings: the migrations to apply, and the configuration (known secrets, nothing else set).
      bindings: {
        TEST_MIGRATIONS: migrations,
        // Tests read the inline hook audit and the forward queue right after each call; the buffering itself is
        // tested with its own values (test/integration/inline-audit.test.ts, test/integration/enqueue-buffer.test.ts).
        ...isolatedConfig({ ...TEST_SECRETS, INLINE_AUDIT_FLUSH_MS: "0", FORWARD_ENQUEUE_WINDOW_MS: "0" }),
      },
      compatibilityFlags: ["service_binding_extra_handlers"],
      // A local R2 bucket for the retention archive's tests, bound under its own name: tests that want an archive
      // pass it as ARCHIVE, so every other test runs without one, as a default deployment does.
      r2Buckets: ["TEST_ARCHIVE"],
    },
  });
}

export default defineConfig(async () => {
  await buildDashboard();
  buildApiReference();
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      // Log lines of passing tests are noise in CI; a failing test still shows its own.
      silent: "passed-only" as const,
      projects: [
        {
          plugins: [workerd(migrations)],
          test: {
            name: "workers",
            include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
            exclude: [ROUTE_FUZZER],
            setupFiles: ["./test/setup/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "tools",
            environment: "node",
            include: ["test/tools/**/*.test.ts"],
          },
        },
        {
          test: {
            name: "e2e",
            environment: "node",
            // test/tooling: the setup, deploy and secrets scripts against a fake wrangler, and the wrangler config.
            include: ["test/e2e/**/*.test.ts", "test/tooling/**/*.test.ts"],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            // One wrangler dev per file; files run one after another on this 2-core machine.
            fileParallelism: false,
          },
        },
        {
          test: {
            name: "browser",
            environment: "node",
            include: ["test/browser/**/*.test.ts"],
            testTimeout: 120_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
        {
          plugins: [workerd(migrations)],
          test: {
            name: "resilience",
            include: ["test/resilience/workers/**/*.test.ts", ROUTE_FUZZER],
            setupFiles: ["./test/setup/apply-migrations.ts"],
            testTimeout: 120_000,
          },
        },
        {
          test: {
            name: "resilience-e2e",
            environment: "node",
            include: ["test/resilience/e2e/**/*.test.ts"],
            testTimeout: 180_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
