/**
 * Text for the keys page through `browser.i18n` (the page must not touch `browser.*` itself).
 * Generic enough for any add-on page; it lives here because the keys page was the first to need it.
 */
import { webext } from './webext.js';

/** The localized message, or its name when missing (a visible bug rather than an empty label). */
export function message(name: string, substitutions?: string | string[]): string {
  try {
    return webext?.i18n?.getMessage(name, substitutions) || name;
  } catch {
    return name;
  }
}

export function uiLanguage(): string {
  try {
    return webext?.i18n?.getUILanguage() || 'en';
  } catch {
    return 'en';
  }
}

/** Fills every `[data-i18n]` element's text (textContent only, never markup). */
export function localizeDocument(root: ParentNode & { documentElement?: HTMLElement }): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n]'))) {
    const name = el.dataset['i18n'];
    if (name) el.textContent = message(name);
  }
  if (root.documentElement) root.documentElement.lang = uiLanguage();
}
