// The console's own language (the agent's choice, kept in this browser),
// separate from the languages the desk speaks to customers.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en.json";
import fr from "./locales/fr.json";
import es from "./locales/es.json";

export const LANGUAGES = { en: "English", fr: "Français", es: "Español" } as const;
export type Language = keyof typeof LANGUAGES;
const KEY = "helpdesk.language";

function initial(): Language {
  const saved = localStorage.getItem(KEY);
  if (saved && saved in LANGUAGES) return saved as Language;
  const browser = navigator.language.slice(0, 2);
  return browser in LANGUAGES ? (browser as Language) : "en";
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, fr: { translation: fr }, es: { translation: es } },
  lng: initial(),
  fallbackLng: "en",
  interpolation: { escapeValue: false },
});
document.documentElement.lang = i18n.language;

export function setLanguage(language: Language) {
  localStorage.setItem(KEY, language);
  document.documentElement.lang = language;
  void i18n.changeLanguage(language);
}

export default i18n;
