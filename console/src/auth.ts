// Signing in. On AWS: Cognito's hosted UI, authorization code with PKCE
// (oidc-client-ts), the ID token sent to the API, refreshed with the refresh
// token before it expires. Locally: the runner's token issuer, one click per
// local agent (see SignIn).
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";

export type AuthConfig =
  | { auth: "local" }
  | { auth: "cognito"; cognito: { domain: string; client_id: string } }
  | { auth: "external"; [key: string]: unknown };

const LOCAL_KEY = "helpdesk.local-token";
let config: AuthConfig = { auth: "local" };
let manager: UserManager | null = null;

export const consoleBase = () => `${location.origin}/console/`;

export async function loadConfig(): Promise<AuthConfig> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  config = (await response.json()) as AuthConfig;
  if (config.auth === "cognito") {
    const { domain, client_id } = config.cognito;
    manager = new UserManager({
      authority: domain,
      client_id,
      redirect_uri: consoleBase(),
      post_logout_redirect_uri: consoleBase(),
      response_type: "code",
      scope: "openid email profile",
      // Cognito's hosted UI publishes no discovery document at the domain.
      metadata: {
        issuer: domain,
        authorization_endpoint: `${domain}/oauth2/authorize`,
        token_endpoint: `${domain}/oauth2/token`,
        userinfo_endpoint: `${domain}/oauth2/userInfo`,
        end_session_endpoint: `${domain}/logout`,
        revocation_endpoint: `${domain}/oauth2/revoke`,
      },
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: sessionStorage }),
    });
  }
  return config;
}

export const authMode = () => config.auth;

/** Finishes a hosted-UI sign-in when the page is Cognito's redirect back,
 * and returns to the page the agent asked for (kept in the sign-in state).
 * A refused or stale sign-in clears the query, so a reload starts afresh. */
export async function completeRedirect(): Promise<void> {
  if (!manager) return;
  const params = new URLSearchParams(location.search);
  if (params.has("error") && params.has("state")) {
    history.replaceState(null, "", consoleBase());
    throw new Error(`sign-in refused: ${params.get("error_description") ?? params.get("error")}`);
  }
  if (params.has("code") && params.has("state")) {
    try {
      const user = await manager.signinRedirectCallback();
      const back = typeof user.url_state === "string" && user.url_state.startsWith("/console/") ? user.url_state : consoleBase();
      history.replaceState(null, "", back);
    } catch (error) {
      history.replaceState(null, "", consoleBase());
      throw error;
    }
  }
}

// One refresh at a time, however many requests find the token expired.
let refreshing: Promise<User | null> | null = null;

async function cognitoUser(): Promise<User | null> {
  if (!manager) return null;
  const user = await manager.getUser();
  if (user && user.expired) {
    refreshing ??= manager
      .signinSilent()
      .catch(() => null)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }
  return user;
}

/** The bearer token for the API, or null when nobody is signed in. */
export async function currentToken(): Promise<string | null> {
  if (config.auth === "cognito") return (await cognitoUser())?.id_token ?? null;
  const token = sessionStorage.getItem(LOCAL_KEY);
  if (!token) return null;
  return tokenExpired(token) ? null : token;
}

export function tokenExpired(token: string, nowMs = Date.now()): boolean {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return typeof payload.exp !== "number" || payload.exp * 1000 <= nowMs;
  } catch {
    return true;
  }
}

export function keepLocalToken(token: string) {
  sessionStorage.setItem(LOCAL_KEY, token);
}

export async function signIn(): Promise<void> {
  // Back to this page after the hosted UI.
  if (manager) await manager.signinRedirect({ url_state: location.pathname + location.search });
  else location.assign(`${consoleBase()}signin`);
}

export function signInAgain() {
  if (location.pathname.endsWith("/signin")) return;
  sessionStorage.removeItem(LOCAL_KEY);
  void signIn();
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(LOCAL_KEY);
  if (manager && config.auth === "cognito") {
    // The refresh token stops working now, not when it would expire.
    await manager.revokeTokens(["refresh_token"]).catch(() => undefined);
    await manager.removeUser();
    // Cognito's logout takes client_id and logout_uri rather than OIDC's parameters.
    const { domain, client_id } = config.cognito;
    location.assign(`${domain}/logout?client_id=${encodeURIComponent(client_id)}&logout_uri=${encodeURIComponent(consoleBase())}`);
    return;
  }
  location.assign(`${consoleBase()}signin`);
}
