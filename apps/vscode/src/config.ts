import * as vscode from 'vscode';
import { CONFIG_SECTION } from './constants.js';
import type { LiveSettings } from './services/liveUpdates.js';
import type { SessionSettings } from './services/session.js';

export type Settings = SessionSettings & LiveSettings;

/** The `tickets.*` settings, read fresh each time (they can change at any moment). */
export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  return {
    serverUrl: config.get<string>('serverUrl', 'http://127.0.0.1:8080').trim().replace(/\/+$/, ''),
    tenant: config.get<string>('tenant', 'demo').trim(),
    email: config.get<string>('email', '').trim(),
    pollIntervalSeconds: config.get<number>('pollIntervalSeconds', 30),
    live: config.get<boolean>('live', true),
  };
}

/** Remembers the e-mail signed in with (user settings: it follows the user, not the folder). */
export async function rememberEmail(email: string): Promise<void> {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  if (config.get<string>('email') === email) return;
  await config.update('email', email, vscode.ConfigurationTarget.Global);
}
