/**
 * Terminal colours for the command-line tools: picocolors, on when the output is a terminal and NO_COLOR is not set
 * (picocolors' own rule; FORCE_COLOR forces them), or as asked (tests render without).
 */
import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled?: boolean): Colors {
  return enabled === undefined ? pc : pc.createColors(enabled);
}
