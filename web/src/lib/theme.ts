/**
 * The colour theme a person picked: "system" follows the operating system. Kept in a plain cookie (not httpOnly: the
 * toggle writes it without a round trip) so the server renders the right theme in the first byte.
 */
export const THEME_COOKIE = 'edulure_theme';
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

export function parseTheme(value: string | null | undefined): Theme {
  return (THEMES as readonly string[]).includes(value ?? '') ? (value as Theme) : 'system';
}

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

export const themeCookieOptions = { path: '/', maxAge: ONE_YEAR_SECONDS, sameSite: 'lax' as const, httpOnly: false };

/** Browser only: applies the choice to this page at once and remembers it for the next request. */
export function chooseTheme(theme: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  root.classList.toggle('dark', dark);
  const secure = location.protocol === 'https:' ? '; secure' : '';
  document.cookie = `${THEME_COOKIE}=${theme}; path=/; max-age=${ONE_YEAR_SECONDS}; samesite=lax${secure}`;
}
