import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { setNonce } from "get-nonce";
import "./styles.css";
import "./i18n";
import { App } from "./App";
import { completeRedirect, loadConfig } from "./auth";
import { syncDeskClock } from "./lib/clock";

const queries = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 15_000, retry: 1, refetchOnWindowFocus: true },
  },
});

// The page's CSP allows style elements only with the nonce the console
// function put in this answer; the dialogs' scroll lock inserts one.
const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute("content");
if (nonce) setNonce(nonce);

async function start() {
  const root = createRoot(document.getElementById("root")!);
  try {
    await loadConfig();
    await completeRedirect();
    await syncDeskClock();
  } catch (error) {
    root.render(<p role="alert">The console could not start: {String(error)}</p>);
    return;
  }
  root.render(
    <StrictMode>
      <QueryClientProvider client={queries}>
        <BrowserRouter basename="/console">
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </StrictMode>,
  );
}

void start();
