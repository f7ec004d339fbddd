/** What one session needs to reach Telegram, and where the mtcute modules read it from (the store, decrypted). */

export interface SessionCredentials {
  /** mtcute session string. */
  authString: string;
  apiId: number;
  apiHash: string;
}

export interface CredentialSource {
  get(sessionId: string): Promise<SessionCredentials | null>;
}
