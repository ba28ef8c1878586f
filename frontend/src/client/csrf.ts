// The CSRF token lives in memory only: it is re-read from GET /api/auth/me after a reload.
let token: string | null = null;

export function setCsrfToken(value: string | null | undefined): void {
  token = value ?? null;
}

export function getCsrfToken(): string | null {
  return token;
}
