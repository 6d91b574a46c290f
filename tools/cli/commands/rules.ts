/**
 * `rules …`: inline hook rules, /admin/api/rules (docs/inline-hooks.md): list (by hook type), get, create from a
 * JSON file (the rule exactly as the API takes it), delete.
 */
import type { Command } from "commander";
import type { Rule } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { jsonText } from "../table.ts";
import { rulesTable } from "../views.ts";
import { readJsonFile } from "./shared.ts";

export function ruleCommands(program: Command, ctx: CommandContext): void {
  const group = program.command("rules").description("inline hook rules: list, get, create from a JSON file, delete");
  const rule = (id: string) => `/rules/${encodeURIComponent(id)}`;

  group
    .command("list")
    .description("rules in evaluation order")
    .option("--type <type>", "only this inline hook type's: token, registration, password-import, saml, user-import, telephony")
    .action(async (flags: { type?: string }) => {
      const res = await ctx.api().call<{ rules: Rule[] }>("GET", "/rules", { query: { type: flags.type } });
      ctx.print(res, (r, c) => rulesTable(r.rules, c));
    });

  group
    .command("get")
    .description("one rule, as JSON")
    .argument("<id>", "the rule's id")
    .action(async (id: string) => ctx.io.out(jsonText(await ctx.api().call<Rule>("GET", rule(id)))));

  group
    .command("create")
    .description('create a rule from a JSON file: {"kind": …, "name"?, "priority"?, "enabled"?, "definition": …}')
    .argument("<file>", "the rule as JSON (docs/inline-hooks.md has one of each kind)")
    .action(async (file: string) => {
      const created = await ctx.api().call<Rule>("POST", "/rules", { body: readJsonFile(ctx, file, "rules create") });
      ctx.print(created, (r, c) => `Created ${r.id}.\n${rulesTable([r], c)}`);
    });

  group
    .command("delete")
    .description("delete a rule")
    .argument("<id>", "the rule's id")
    .action(async (id: string) => {
      await ctx.api().call("DELETE", rule(id));
      ctx.print({ deleted: id }, () => `Deleted ${id}.`);
    });
}
