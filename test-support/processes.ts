import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface ProductProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL, as in a crash: nothing is flushed or acknowledged on the way out. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Runs one of the product's entry points (e.g. `worker/src/main.ts`) as its own process, like production does. */
export function startProductProcess(entry: string, env: Record<string, string>): ProductProcess {
  return startNode(["--import", "tsx", entry], env);
}

/** Runs a bundled program (`dist/backend.mjs`, made by `npm run bundle`) as the images run it. */
export function startBuiltProcess(file: string, env: Record<string, string>): ProductProcess {
  return startNode(["--enable-source-maps", file], env);
}

function startNode(args: string[], env: Record<string, string>): ProductProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "info", VITEST: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { child, output: () => output, kill9: () => signal("SIGKILL"), stop: () => signal("SIGTERM") };
}
