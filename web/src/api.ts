/**
 * The dashboard's only way to the server: the public JSON API with `Authorization: Bearer <token>`. Every failure
 * becomes one error type, ApiError, whose message is the API's own words (`error.message`).
 */

const TOKEN_KEY = 'stagger.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let token: string | null = readStoredToken();
let unauthorizedHandler: ((message: string) => void) | null = null;

function readStoredToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  return token;
}

/** Kept in sessionStorage (this tab only, gone when it closes), never in the URL. */
export function setToken(value: string | null): void {
  token = value;
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives in memory for this page only.
  }
}

/** Called when the server answers 401 to a signed-in request (revoked token, deleted user). */
export function onUnauthorized(handler: ((message: string) => void) | null): void {
  unauthorizedHandler = handler;
}

export interface RequestOptions {
  /** Use this token instead of the stored one (sign-in checks a token before keeping it). */
  token?: string;
  signal?: AbortSignal;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const bearer = options.token ?? token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: payload,
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK', 'Could not reach the Stagger server. Check that it is running.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = errorOf(json);
    const failure = new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      error?.details,
    );
    if (response.status === 401 && !options.token && unauthorizedHandler)
      unauthorizedHandler(failure.message);
    throw failure;
  }
  return json as T;
}

function errorOf(json: unknown): { code?: string; message?: string; details?: unknown } | null {
  if (!json || typeof json !== 'object' || !('error' in json)) return null;
  const error = (json as { error: unknown }).error;
  if (!error || typeof error !== 'object') return null;
  const e = error as Record<string, unknown>;
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  };
}

/** A message for any caught value: the API's words, or a generic sentence. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
