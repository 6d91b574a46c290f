#!/usr/bin/env node
/**
 * `npm run simulate -- [options] [scenario…]`: the Okta simulator (tools/simulate/, docs/operations.md).
 * Runs on the project's Node 22 as TypeScript; the resolve hook lets it share src/okta's pure modules.
 */
import "../tools/resolve-extensionless.ts";

const { main } = await import("../tools/simulate/cli.ts");
process.exitCode = await main(process.argv.slice(2));
