/** Opening things for the user: links in the default browser, the keys page, the toolbar button. */
import { webext } from './webext.js';

export async function openInDefaultBrowser(url: string): Promise<void> {
  const w = webext.windows as unknown as { openDefaultBrowser(url: string): Promise<void> };
  await w.openDefaultBrowser(url);
}

export async function openKeysPage(): Promise<void> {
  await webext.runtime.openOptionsPage();
}

/** The toolbar button (manifest `action`) opens the keys page. Register at top level. */
export function onActionClicked(fn: () => void): void {
  const action = (webext as unknown as { action?: { onClicked: { addListener(f: () => void): void } } }).action;
  action?.onClicked.addListener(fn);
}
