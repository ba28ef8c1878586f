import createClient, { type Middleware } from "openapi-fetch";
import { getCsrfToken } from "./csrf";
import { ApiError, apiErrorFrom, NETWORK_ERROR_MESSAGE } from "./errors";
import type { paths } from "./schema";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

let onUnauthorized: (() => void) | null = null;

/** Called when any request (other than login and the session probe) gets a 401. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

const csrfAndAuth: Middleware = {
  onRequest({ request }) {
    const token = getCsrfToken();
    if (!SAFE.has(request.method) && token) request.headers.set("X-CSRF-Token", token);
    return request;
  },
  onResponse({ request, response }) {
    const path = new URL(request.url).pathname;
    if (response.status === 401 && path !== "/api/auth/login" && path !== "/api/auth/me") onUnauthorized?.();
    return response;
  },
};

/** The typed API client (paths and bodies come from the OpenAPI schema). */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
api.use(csrfAndAuth);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Await an openapi-fetch call; return its data or throw an ApiError carrying the server's detail. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, NETWORK_ERROR_MESSAGE, "network");
  }
  if (!result.response.ok) throw apiErrorFrom(result.response.status, result.error);
  return result.data as T;
}

/** Like unwrap, but a 204 No Content gives null. */
export async function unwrapOrNull<T>(call: Promise<FetchResult<T>>): Promise<T | null> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, NETWORK_ERROR_MESSAGE, "network");
  }
  if (result.response.status === 204) return null;
  if (!result.response.ok) throw apiErrorFrom(result.response.status, result.error);
  return (result.data ?? null) as T | null;
}
