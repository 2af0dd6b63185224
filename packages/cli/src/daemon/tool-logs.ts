/**
 * Keeps the roam-owned logs of the tools whose store is a database (Tool.mirror, e.g. OpenCode's
 * SQLite file, tools/common/opencode/) up to date: every second, each such tool appends what
 * changed in its database to its logs, which the folder watcher then replicates like any other
 * log. A failure (a schema version not measured, ROAM_TOOL_SCHEMA) is logged once per message.
 */
import { allTools } from '../tools/registry.js';

/** How often the databases are read (ROAM_TOOL_LOG_MS overrides, for tests). */
const MIRROR_MS = 1_000;

export class ToolLogs {
  private timer: NodeJS.Timeout | null = null;
  private readonly failures = new Map<string, string>();

  constructor(private readonly envOf: () => NodeJS.ProcessEnv, private readonly log: (line: string) => void) {}

  start(): void {
    const env = this.envOf();
    const ms = Number(env.ROAM_TOOL_LOG_MS) > 0 ? Number(env.ROAM_TOOL_LOG_MS) : MIRROR_MS;
    this.pass();
    this.timer = setInterval(() => this.pass(), ms);
    this.timer.unref();
  }

  /** One pass over every tool with a database. */
  pass(): void {
    for (const tool of allTools()) {
      if (!tool.mirror) continue;
      try {
        for (const line of tool.mirror(this.envOf())) this.log(line);
        this.failures.delete(tool.name);
      } catch (err) {
        const line = `${tool.label}: cannot read its database: ${(err as Error).message}`;
        if (this.failures.get(tool.name) !== line) this.log(line);
        this.failures.set(tool.name, line);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
