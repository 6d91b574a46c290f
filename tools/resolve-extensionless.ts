/**
 * Lets Node run the pure modules of src/ that the command-line tools share (src/okta: Okta's schemas and rules).
 *
 * Node 22 runs TypeScript by stripping types, but resolves imports as written; src/ is bundled for the Worker and
 * imports its siblings without an extension (`./common`). This resolve hook retries a relative import that Node
 * cannot find with `.ts` appended, and changes nothing else. Import it before anything from src/, as the entry
 * scripts do (scripts/simulate.ts).
 */
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const relative = specifier.startsWith("./") || specifier.startsWith("../");
      const notFound = (error as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
      if (!relative || !notFound || /\.[cm]?[jt]s$/.test(specifier)) throw error;
      return nextResolve(`${specifier}.ts`, context);
    }
  },
});
