import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A tiny request/response protocol over Node's IPC channel, so that the orchestrator can
 * drive its child processes (publishers, sink, worker, embedded server) step by step.
 */
interface Request {
  id: number;
  method: string;
  params: unknown;
}
interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

type Handlers = Record<string, (params: any) => unknown>;

/** In a child: answers the parent's calls; a handler may be async. */
export function serveIpc(handlers: Handlers): void {
  if (!process.send) throw new Error("this module runs as a child process with an IPC channel (see bench/src/ipc.ts)");
  process.on("message", (raw: unknown) => {
    const request = raw as Request;
    if (typeof request?.id !== "number") return;
    const handler = handlers[request.method];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown method ${request.method}`);
        return handler(request.params);
      })
      .then(
        (result) => process.send!({ id: request.id, result } satisfies Response),
        (error: unknown) => process.send!({ id: request.id, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) } satisfies Response),
      );
  });
  // The parent going away (crash, Ctrl-C) must not leave this process behind.
  process.on("disconnect", () => process.exit(0));
}

export interface ChildHandle {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the child's `{ ready: … }` message (sent once it has started), rejects if it exits first. */
  ready(timeoutMs?: number): Promise<unknown>;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** The last lines of the child's stdout and stderr, for error messages. */
  output(): string;
  /** Waits for the exit, SIGKILL after `graceMs`. */
  exited(graceMs?: number): Promise<void>;
  /** Closes the IPC channel (the child then exits by itself), SIGKILL after 3 s. */
  kill(): Promise<void>;
}

/**
 * Forks one of bench/src's modules as a child running TypeScript through tsx.
 * `nodeArgs` go before the module (e.g. `--cpu-prof`).
 */
export function forkChild(name: string, module: string, env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): ChildHandle {
  const file = fileURLToPath(new URL(module, import.meta.url));
  const child = fork(file, [], {
    execArgv: ["--import", "tsx", ...nodeArgs],
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 20_000) output = output.slice(-10_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  // BENCH_OUTPUT_DIR=<folder> keeps each child's whole output in <folder>/<name>.log (debugging, --trace-gc).
  if (process.env.BENCH_OUTPUT_DIR) {
    const file = createWriteStream(join(process.env.BENCH_OUTPUT_DIR, `${name}.log`), { flags: "a" });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let readyValue: { value: unknown } | undefined;
  const readyWaiters: ((value: unknown) => void)[] = [];
  child.on("message", (raw: unknown) => {
    if (raw && typeof raw === "object" && "ready" in raw) {
      readyValue = { value: (raw as { ready: unknown }).ready };
      for (const waiter of readyWaiters.splice(0)) waiter(readyValue.value);
      return;
    }
    const response = raw as Response;
    const waiter = pending.get(response.id);
    if (!waiter) return;
    pending.delete(response.id);
    clearTimeout(waiter.timer);
    if (response.error !== undefined) waiter.reject(new Error(`${name}: ${response.error}`));
    else waiter.resolve(response.result);
  });
  child.once("exit", (code, signal) => {
    for (const [, waiter] of pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${name} exited (${code ?? signal}) during a call:\n${output.slice(-3000)}`));
    }
    pending.clear();
  });
  return {
    name,
    child,
    pid: child.pid!,
    ready(timeoutMs = 60_000) {
      if (readyValue) return Promise.resolve(readyValue.value);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`)), timeoutMs);
        readyWaiters.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
        void exit.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.slice(-3000)}`));
        });
      });
    },
    call(method, params, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${name} is not running:\n${output.slice(-3000)}`));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${method} took more than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, method, params } satisfies Request);
      });
    },
    output: () => output,
    async exited(graceMs = 10_000) {
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Closing the IPC channel makes the child exit on its own (serveIpc); SIGKILL if it does not.
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
