/**
 * The tools' user-level configuration (CLAUDE.md, settings, commands, agents, skills and the other
 * tools' equivalents), opt-in per device and per kind (config.json `userConfig`, `roam userconfig`):
 * what roamd and the verbs both read. Devices that opted in sync a staging folder of roam's own
 * (`<state>/userconfig`, folder id `userconfig`, entries `<tool>.<kind>/…`); what arrives there
 * takes effect only when the user applies it (`roam userconfig apply`), hooks only with `--hooks`.
 * Credentials never travel: a kind or a file named like one is refused (ROAM_CREDENTIALS).
 */
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { roamPaths } from './paths.js';

export const USER_CONFIG_FOLDER = 'userconfig';

/** Per tool: each kind the user may opt into, and its path under the tool's home (a file or a directory). */
export const USER_CONFIG_KINDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  claude: { 'CLAUDE.md': 'CLAUDE.md', settings: 'settings.json', commands: 'commands', agents: 'agents', skills: 'skills' },
  codex: { 'AGENTS.md': 'AGENTS.md', config: 'config.toml', prompts: 'prompts', skills: 'skills' },
  gemini: { 'GEMINI.md': 'GEMINI.md', settings: 'settings.json', commands: 'commands' },
  copilot: { instructions: 'copilot-instructions.md', agents: 'agents' },
};

/** Kinds whose files are code that runs (shown as such before they are applied). */
export const CODE_KINDS = new Set(['commands', 'agents', 'skills', 'prompts']);

/** File names that hold credentials: never synced, never asked for. */
const CREDENTIAL = /(^|\/)(\.?credentials(\.json)?|auth\.json|oauth_creds\.json|google_accounts\.json|hosts\.json|apps\.json|mcp-oauth[^/]*|[^/]*tokens?[^/]*|[^/]*secrets?[^/]*|\.env|[^/]*\.(pem|key|p12))$/i;

export function isCredential(name: string): boolean {
  return CREDENTIAL.test(name);
}

/** roam's staging folder of user configuration on this device. */
export function userConfigDir(env: NodeJS.ProcessEnv): string {
  return join(roamPaths(env).state, 'userconfig');
}

/** The staging folder's top-level entry of a tool's kind. */
export const entryOf = (tool: string, kind: string): string => `${tool}.${kind}`;

/**
 * Checks a `userConfig` request (config.json or `roam userconfig enable`): known tools and kinds
 * only, and never credentials, whatever they are called.
 */
export function checkUserConfig(req: Readonly<Record<string, readonly string[]>> | undefined): void {
  for (const [tool, kinds] of Object.entries(req ?? {})) {
    for (const kind of kinds) {
      if (isCredential(kind)) throw new RoamError(ErrorCodes.CREDENTIALS, `userConfig.${tool}: ${kind} holds credentials, which never travel between devices (log in on each device instead)`);
      const known = USER_CONFIG_KINDS[tool];
      if (!known) throw new RoamError(ErrorCodes.CONFIG, `userConfig: no user configuration of ${tool} is known (tools: ${Object.keys(USER_CONFIG_KINDS).join(', ')})`);
      if (!(kind in known)) throw new RoamError(ErrorCodes.CONFIG, `userConfig.${tool}: ${kind} is not a kind of ${tool}'s configuration (kinds: ${Object.keys(known).join(', ')})`);
    }
  }
}

/** The staging folder's entries this device opted into (its selective sync), or null for none. */
export function userConfigEntries(req: Readonly<Record<string, readonly string[]>> | undefined): string[] | null {
  const out = Object.entries(req ?? {}).flatMap(([tool, kinds]) => kinds.map((k) => entryOf(tool, k)));
  return out.length ? out : null;
}
