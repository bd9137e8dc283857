import { lazy, Suspense, useEffect, useState } from "react";
import { Link, NavLink, Route, Routes, useLocation, useNavigate, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { authMode, currentToken, signIn, signOut } from "./auth";
import { LANGUAGES, setLanguage, type Language } from "./i18n";
import { actionFor } from "./lib/keys";
import { dispatchCommand, useCommand } from "./actions";
import { useCounts, useLiveUpdates, useMe, VIEWS, type View } from "./queries";
import { SignIn } from "./pages/SignIn";
import { Queue } from "./pages/Queue";
import { Palette } from "./pages/Palette";
import { KeyboardHelp } from "./pages/KeyboardHelp";
import { SearchBox } from "./pages/Search";

// The dashboard's charts and the admin pages load when first opened.
const Dashboard = lazy(() => import("./pages/Dashboard").then((m) => ({ default: m.Dashboard })));
const Admin = lazy(() => import("./pages/Admin").then((m) => ({ default: m.Admin })));

export function App() {
  const location = useLocation();
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    void currentToken().then(setToken);
  }, [location.pathname]);
  if (location.pathname === "/signin") return <SignIn />;
  if (token === undefined) return null;
  if (token === null) {
    if (authMode() === "local") return <SignIn />;
    void signIn();
    return null;
  }
  return <Workspace />;
}

function Workspace() {
  const { t, i18n } = useTranslation();
  const me = useMe();
  const live = useLiveUpdates();
  const navigate = useNavigate();
  const [palette, setPalette] = useState(false);
  const [help, setHelp] = useState(false);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing =
        !!target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
      const action = actionFor({ key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, altKey: event.altKey, typing });
      if (!action) return;
      // Enter on a button or link keeps its own meaning; inside a dialog only Esc and Ctrl+K act.
      if (action === "open" && target && (target.tagName === "BUTTON" || target.tagName === "A")) return;
      if (target?.closest('[role="dialog"]') && action !== "escape" && action !== "palette") return;
      event.preventDefault();
      dispatchCommand(action);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  useCommand((command) => {
    if (command === "palette") setPalette(true);
    if (command === "help") setHelp(true);
    if (command === "escape") {
      setPalette(false);
      setHelp(false);
    }
  });

  if (!me.data) {
    if (me.isError) return <p role="alert">{t("error.me", { error: String(me.error) })}</p>;
    return <p aria-busy="true">{t("loading")}</p>;
  }
  const role = me.data.role;

  return (
    <div className="app">
      <a className="skip" href="#main">
        {t("skip")}
      </a>
      <header className="top">
        <span className="brand">{t("brand")}</span>
        <SearchBox />
        <span className={live ? "live on" : "live off"} role="status" aria-live="polite">
          {live ? t("live.on") : t("live.off")}
        </span>
        <label className="lang">
          <span className="visually-hidden">{t("language")}</span>
          <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
            {Object.entries(LANGUAGES).map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <span className="who" data-testid="who">
          {me.data.agent} · {t(`role.${role}`)}
        </span>
        <button type="button" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          {t("keys.title")}
        </button>
        <button type="button" onClick={() => void signOut()}>
          {t("signout")}
        </button>
      </header>
      <div className="body">
        <Nav role={role} teams={me.data.teams} />
        <main id="main" tabIndex={-1}>
          <Suspense fallback={<p aria-busy="true">{t("loading")}</p>}>
          <Routes>
            <Route path="/dashboard" element={role === "agent" ? <Forbidden /> : <Dashboard teams={me.data.teams} />} />
            <Route path="/admin" element={role === "admin" ? <Admin /> : <Forbidden />} />
            <Route path="/tickets/:id" element={<Queue me={me.data} />} />
            <Route path="*" element={<Queue me={me.data} />} />
          </Routes>
          </Suspense>
        </main>
      </div>
      <Palette open={palette} onOpenChange={setPalette} role={role} navigate={(to) => void navigate(to)} />
      <KeyboardHelp open={help} onOpenChange={setHelp} />
    </div>
  );
}

function Forbidden() {
  const { t } = useTranslation();
  return <p role="alert">{t("error.forbidden")}</p>;
}

function Nav({ role, teams }: { role: string; teams: string[] }) {
  const { t } = useTranslation();
  const counts = useCounts();
  const [params] = useSearchParams();
  const location = useLocation();
  const current = (params.get("view") ?? "mine") as View;
  const team = params.get("team");
  const onQueue = location.pathname === "/" || location.pathname.startsWith("/tickets");
  const count = (view: View, forTeam?: string) => {
    const data = counts.data;
    if (!data) return null;
    if (view === "mine") return data.mine;
    const key = view === "at_risk" ? "at_risk" : view === "resolved" ? null : view;
    if (!key) return null;
    const pick = (t: string) => data.teams[t]?.[key as "open" | "unassigned" | "at_risk" | "waiting"] ?? 0;
    return forTeam ? pick(forTeam) : Object.keys(data.teams).reduce((sum, t) => sum + pick(t), 0);
  };
  return (
    <nav className="side" aria-label={t("nav.label")}>
      <ul>
        {VIEWS.map((view) => (
          <li key={view}>
            <Link
              to={`/?view=${view}`}
              className={onQueue && current === view && !team ? "active" : undefined}
              aria-current={onQueue && current === view && !team ? "page" : undefined}
            >
              <span>{t(`view.${view}`)}</span>
              {count(view) !== null && <span className="count" data-testid={`count-${view}`}>{count(view)}</span>}
            </Link>
            {view === "unassigned" && (
              <ul className="teams">
                {teams.map((teamId) => (
                  <li key={teamId}>
                    <Link
                      to={`/?view=unassigned&team=${teamId}`}
                      className={onQueue && current === "unassigned" && team === teamId ? "active" : undefined}
                      aria-current={onQueue && current === "unassigned" && team === teamId ? "page" : undefined}
                    >
                      <span>{teamId}</span>
                      <span className="count">{count("unassigned", teamId)}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      <ul>
        {role !== "agent" && (
          <li>
            <NavLink to="/dashboard">{t("nav.dashboard")}</NavLink>
          </li>
        )}
        {role === "admin" && (
          <li>
            <NavLink to="/admin">{t("nav.admin")}</NavLink>
          </li>
        )}
      </ul>
    </nav>
  );
}
