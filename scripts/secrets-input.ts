/**
 * Reads a secret the operator already has (the current value, for a rotation) without it ever being echoed or
 * landing in a command line: piped stdin when stdin is not a terminal (`pass show … | npm run secrets -- …`),
 * otherwise a prompt on the terminal with echo off.
 */
import { ToolError } from "./setup-wrangler.ts";

/** Largest input accepted: a handful of comma-separated values, never a file pasted by mistake. */
const MAX_INPUT_CHARS = 16 * 1024;

export async function readSecretInput(prompt: string): Promise<string> {
  const input = process.stdin.isTTY ? await promptHidden(prompt) : await readPipedStdin();
  return input.trim();
}

async function readPipedStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_INPUT_CHARS) throw new ToolError(`stdin holds more than ${MAX_INPUT_CHARS} characters.`);
  }
  return text;
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u0003") return finish(new ToolError("Cancelled; nothing was stored."));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else if (char >= " ") value += char;
        if (value.length > MAX_INPUT_CHARS) return finish(new ToolError(`Input over ${MAX_INPUT_CHARS} characters.`));
      }
    };
    stdin.on("data", onData);
  });
}
