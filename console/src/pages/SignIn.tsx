import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { authMode, consoleBase, signIn, keepLocalToken } from "../auth";

export interface LocalAgent {
  name: string;
  teams: string[];
  role: "agent" | "lead" | "admin";
  groups?: string[];
}

/** The groups of a local agent's token: teams, then the role's group. */
export function groupsOf(agent: LocalAgent): string[] {
  if (agent.groups) return agent.groups;
  const role = agent.role === "lead" ? ["leads"] : agent.role === "admin" ? ["admins"] : [];
  return [...agent.teams, ...role];
}

export function SignIn() {
  const { t } = useTranslation();
  const local = authMode() === "local";
  const external = authMode() === "external";
  const agents = useQuery({
    queryKey: ["local-agents"],
    enabled: local,
    queryFn: async () => {
      const response = await fetch("/_local/agents", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { agents: LocalAgent[] } | LocalAgent[];
      return Array.isArray(body) ? body : body.agents;
    },
  });

  async function signInAs(agent: LocalAgent) {
    const query = new URLSearchParams({ agent: agent.name, teams: groupsOf(agent).join(","), format: "raw" });
    const response = await fetch(`/_local/token?${query}`, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    keepLocalToken((await response.text()).trim());
    location.assign(consoleBase());
  }

  return (
    <main className="signin" id="main">
      <h1>{t("signin.title")}</h1>
      {external && <p role="alert">{t("signin.external")}</p>}
      {!local && !external && (
        <button type="button" className="primary" onClick={() => void signIn()}>
          {t("signin.cognito")}
        </button>
      )}
      {local && (
        <>
          <p>{t("signin.local")}</p>
          {agents.isError && <p role="alert">{t("signin.noAgents")}</p>}
          <ul className="agents">
            {(agents.data ?? []).map((agent) => (
              <li key={agent.name}>
                <button type="button" onClick={() => void signInAs(agent)} data-testid={`signin-${agent.name}`}>
                  <strong>{agent.name}</strong>
                  <span>{t(`role.${agent.role}`)}</span>
                  <span>{agent.teams.join(", ")}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}
