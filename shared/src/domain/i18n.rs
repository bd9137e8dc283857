//! Bot texts in the customer's language: the six supported languages, the Fluent catalogues
//! compiled into the binary, and a guess at the language a customer writes in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::{LanguageIdentifier, langid};

/// A language the bot speaks. English is the default and the fallback for any missing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
    Es,
    It,
    Pt,
    De,
}

impl Lang {
    /// Every supported language, English first.
    pub const ALL: [Lang; 6] = [Lang::En, Lang::Fr, Lang::Es, Lang::It, Lang::Pt, Lang::De];

    /// The ISO 639-1 code: "en", "fr", "es", "it", "pt" or "de".
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Pt => "pt",
            Lang::De => "de",
        }
    }

    /// The language code of an approved template in this language. Meta has no plain
    /// "pt": the catalogue is European Portuguese, so its templates are `pt_PT`.
    pub fn template_code(self) -> &'static str {
        match self {
            Lang::Pt => "pt_PT",
            other => other.code(),
        }
    }

    /// Reads a language code or tag in any case, with or without a region ("fr", "FR", "fr-FR", "pt_BR").
    /// `None` for a language the bot does not speak.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|lang| lang.code().eq_ignore_ascii_case(primary))
    }

    /// The language's name in that language, as shown in the language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::It => "Italiano",
            Lang::Pt => "Português",
            Lang::De => "Deutsch",
        }
    }

    /// The locale whose plural rules the catalogue follows.
    fn locale(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::Fr => langid!("fr"),
            Lang::Es => langid!("es"),
            Lang::It => langid!("it"),
            // The Portuguese catalogue is European Portuguese, where 0 takes the plural.
            Lang::Pt => langid!("pt-PT"),
            Lang::De => langid!("de"),
        }
    }

    /// The catalogue shipped for this language.
    fn builtin_source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../locales/en.ftl"),
            Lang::Fr => include_str!("../../locales/fr.ftl"),
            Lang::Es => include_str!("../../locales/es.ftl"),
            Lang::It => include_str!("../../locales/it.ftl"),
            Lang::Pt => include_str!("../../locales/pt.ftl"),
            Lang::De => include_str!("../../locales/de.ftl"),
        }
    }

    fn from_whatlang(lang: whatlang::Lang) -> Option<Lang> {
        match lang {
            whatlang::Lang::Eng => Some(Lang::En),
            whatlang::Lang::Fra => Some(Lang::Fr),
            whatlang::Lang::Spa => Some(Lang::Es),
            whatlang::Lang::Ita => Some(Lang::It),
            whatlang::Lang::Por => Some(Lang::Pt),
            whatlang::Lang::Deu => Some(Lang::De),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A value substituted into a text: a string, or a number (numbers also pick the plural form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    Num(i64),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Str(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Str(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Num(value)
    }
}

impl Arg {
    fn to_fluent(&self) -> FluentValue<'_> {
        match self {
            Arg::Str(s) => FluentValue::from(s.as_str()),
            Arg::Num(n) => FluentValue::from(*n),
        }
    }
}

/// One language's compiled catalogue and the keys it defines.
struct Language {
    bundle: FluentBundle<FluentResource>,
    keys: BTreeSet<String>,
}

/// Every bot text, in every language, from the Fluent catalogues compiled into the binary.
pub struct Catalog {
    languages: BTreeMap<Lang, Language>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("languages", &self.languages.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Catalog {
    /// The catalogues shipped in `shared/locales`. Panics only if one of them does not parse,
    /// which the tests rule out.
    pub fn builtin() -> Catalog {
        let sources = Lang::ALL.map(|lang| (lang, lang.builtin_source()));
        Catalog::from_sources(&sources).unwrap_or_else(|e| panic!("a shipped catalogue is broken: {e}"))
    }

    /// Builds a catalogue from Fluent sources. A language may appear more than once (its sources are
    /// merged) or not at all (its texts then come from English). Fails, naming the language and line,
    /// when a source does not parse or defines a key twice.
    pub fn from_sources(sources: &[(Lang, &str)]) -> Result<Catalog, String> {
        let mut languages = BTreeMap::new();
        for &(lang, source) in sources {
            let language = languages.entry(lang).or_insert_with(|| {
                let mut bundle = FluentBundle::new_concurrent(vec![lang.locale()]);
                // The isolation marks (U+2068, U+2069) would be sent inside the WhatsApp text, where some
                // phones draw them as boxes.
                bundle.set_use_isolating(false);
                Language {
                    bundle,
                    keys: BTreeSet::new(),
                }
            });
            let resource = FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| {
                let details: Vec<String> = errors
                    .iter()
                    .map(|e| format!("line {}: {e}", line_of(source, e.pos.start)))
                    .collect();
                format!("the {lang} catalogue does not parse: {}", details.join("; "))
            })?;
            language.bundle.add_resource(resource).map_err(|errors| {
                let details: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("the {lang} catalogue is inconsistent: {}", details.join("; "))
            })?;
            let bundle = &language.bundle;
            language.keys.extend(
                message_ids(source)
                    .filter(|id| bundle.get_message(id).is_some_and(|m| m.value().is_some()))
                    .map(str::to_owned),
            );
        }
        Ok(Catalog { languages })
    }

    /// The text for `key` in `lang`, with arguments; falls back to English when the key is missing in
    /// `lang`, and to the key itself when missing everywhere. Never shows Fluent's Unicode isolation marks.
    pub fn text(&self, lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.to_fluent());
        }
        self.format(lang, key, &fluent_args)
            .or_else(|| self.format(Lang::En, key, &fluent_args))
            .unwrap_or_else(|| key.to_owned())
    }

    /// Keys present in English but missing in another language: (lang, key), sorted.
    pub fn missing_keys(&self) -> Vec<(Lang, String)> {
        let english = self.keys();
        let mut missing = Vec::new();
        for lang in Lang::ALL.into_iter().filter(|&lang| lang != Lang::En) {
            let present = self.languages.get(&lang).map(|l| &l.keys);
            for key in &english {
                if !present.is_some_and(|keys| keys.contains(key)) {
                    missing.push((lang, key.clone()));
                }
            }
        }
        missing
    }

    /// The English keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.languages
            .get(&Lang::En)
            .map(|l| l.keys.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn format(&self, lang: Lang, key: &str, args: &FluentArgs) -> Option<String> {
        let bundle = &self.languages.get(&lang)?.bundle;
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            // Fluent still renders the rest of the text, with the faulty placeable shown as `{$name}`.
            tracing::warn!(lang = lang.code(), key, ?errors, "a bot text did not format cleanly");
        }
        Some(text.into_owned())
    }
}

/// Identifiers of the messages a Fluent source defines. In a source that parsed, a line starting with
/// a letter at column 0 can only open a message (terms start with `-`, comments with `#`, and
/// continuation lines are indented).
fn message_ids(source: &str) -> impl Iterator<Item = &str> {
    source.lines().filter_map(|line| {
        let (id, _) = line.split_once('=')?;
        let id = id.trim_end();
        let starts_with_letter = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let valid = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (starts_with_letter && valid).then_some(id)
    })
}

/// The 1-based line holding byte `offset` of `source`.
fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Fewer words or letters than this tell nothing reliable about a language ("ok", "hi", "merci").
const MIN_WORDS: usize = 3;
const MIN_LETTERS: usize = 12;

/// Frequent words that, among the six supported languages, belong to one only. Words two of them
/// share ("de", "la", "no", "non", "para", "que", "como", "in"...) are left out on purpose.
const FUNCTION_WORDS: [(Lang, &str); 6] = [
    (
        Lang::En,
        "the and is are you my your it to of have has haven not this that with for what where when \
         why how can please thanks thank still been would could does did didn don doesn we our from \
         yet hello hi received",
    ),
    (
        Lang::Fr,
        "les je j n qu vous nous elle est suis pas mon votre avec pour sur dans cette avez \
         toujours depuis bonjour merci où quand comment pourquoi au aux une et encore reçu commande",
    ),
    (
        Lang::Es,
        "el los las y estoy mis sus pero sin todavía todavia aún hola gracias qué cómo dónde cuándo \
         ya muy hay yo usted también recibido tengo puedo quiero",
    ),
    (
        Lang::It,
        "gli di è ho hai sono mio mia miei ancora ordine buongiorno ciao grazie che per dove perché \
         perche anche della dello degli nel nella sul alla questo questa vorrei ricevuto lunedì ed",
    ),
    (
        Lang::Pt,
        "não nao os uma é eu minha meu meus minhas ainda já recebi encomenda olá obrigado obrigada \
         onde com sem estou você voce tenho foi isso isto na em ao",
    ),
    (
        Lang::De,
        "der die das und ist ich nicht mein meine meinen sie wir habe haben noch immer seit mit ein \
         eine einen bitte danke hallo wo wann wie warum auf für von zu bei kann bestellung erhalten \
         schon aber auch oder dass mir mich",
    ),
];

/// The language of a customer's text, when it can be told with confidence: at least 3 words and
/// 12 letters, then either whatlang's reliable verdict or, when whatlang hesitates, a clear majority
/// of words found in one language only. `None` otherwise, and for languages the bot does not speak.
pub fn detect_language(text: &str) -> Option<Lang> {
    let words = text
        .split_whitespace()
        .filter(|word| word.chars().any(char::is_alphabetic))
        .count();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if words < MIN_WORDS || letters < MIN_LETTERS {
        return None;
    }
    match whatlang::detect(text) {
        Some(info) if info.is_reliable() => Lang::from_whatlang(info.lang()),
        // whatlang's trigrams hesitate on short chat messages (it takes "Bonjour, je n'ai toujours pas reçu
        // ma commande depuis lundi" for Portuguese), where a few telltale words settle it.
        _ => language_by_function_words(text),
    }
}

/// The language whose telltale words outnumber every other's by at least two, and appear at least twice.
fn language_by_function_words(text: &str) -> Option<Lang> {
    let lowercase = text.to_lowercase();
    let mut hits = [0_usize; 6];
    for word in lowercase.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
        for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            if words.split_whitespace().any(|w| w == word) {
                hits[i] += 1;
            }
        }
    }
    let mut ranked: Vec<(usize, Lang)> = hits
        .iter()
        .zip(FUNCTION_WORDS)
        .map(|(&n, (lang, _))| (n, lang))
        .collect();
    ranked.sort_by_key(|&(hits, _)| std::cmp::Reverse(hits));
    let (best, lang) = ranked[0];
    let runner_up = ranked[1].0;
    (best >= 2 && best >= runner_up + 2).then_some(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(sources: &[(Lang, &str)]) -> Catalog {
        Catalog::from_sources(sources).expect("the test sources parse")
    }

    #[test]
    fn every_shipped_catalogue_parses() {
        for lang in Lang::ALL {
            if let Err(e) = Catalog::from_sources(&[(lang, lang.builtin_source())]) {
                panic!("{e}");
            }
        }
        assert_eq!(Catalog::builtin().languages.len(), Lang::ALL.len());
    }

    #[test]
    fn every_catalogue_has_every_english_key() {
        let missing = Catalog::builtin().missing_keys();
        assert!(missing.is_empty(), "keys missing from a catalogue: {missing:?}");
    }

    #[test]
    fn no_catalogue_has_a_key_that_english_lacks() {
        let catalog = Catalog::builtin();
        let english: BTreeSet<String> = catalog.keys().into_iter().collect();
        for (lang, language) in &catalog.languages {
            let extra: Vec<&String> = language.keys.difference(&english).collect();
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
    }

    #[test]
    fn every_translation_uses_the_same_arguments_as_english() {
        let names = [
            "name", "example", "order", "status", "team", "wait", "when", "email", "language", "weekday", "time",
            "day", "limit", "expected", "score",
        ];
        let mut args: Vec<(&str, Arg)> = names.iter().map(|&n| (n, Arg::from(format!("<{n}>")))).collect();
        args.push(("count", Arg::Num(4242)));
        let used = |text: &str| -> Vec<String> {
            let mut used: Vec<String> = names
                .iter()
                .map(|n| format!("<{n}>"))
                .chain(["4242".to_owned()])
                .filter(|marker| text.contains(marker.as_str()))
                .collect();
            used.sort();
            used
        };
        let catalog = Catalog::builtin();
        for key in catalog.keys() {
            let english = used(&catalog.text(Lang::En, &key, &args));
            for lang in Lang::ALL {
                let text = catalog.text(lang, &key, &args);
                assert_eq!(used(&text), english, "{lang} `{key}` uses other arguments: {text}");
                assert!(
                    !text.contains("{$"),
                    "{lang} `{key}` refers to an unknown argument: {text}"
                );
            }
        }
    }

    #[test]
    fn a_key_missing_in_a_language_falls_back_to_english() {
        let catalog = catalog(&[
            (Lang::En, "hello = Hello\nbye = Goodbye { $name }"),
            (Lang::Fr, "hello = Bonjour"),
        ]);
        assert_eq!(catalog.text(Lang::Fr, "hello", &[]), "Bonjour");
        assert_eq!(catalog.text(Lang::Fr, "bye", &[("name", "Ana".into())]), "Goodbye Ana");
        assert_eq!(catalog.text(Lang::De, "hello", &[]), "Hello");
        assert_eq!(
            catalog.missing_keys(),
            vec![
                (Lang::Fr, "bye".to_owned()),
                (Lang::Es, "bye".to_owned()),
                (Lang::Es, "hello".to_owned()),
                (Lang::It, "bye".to_owned()),
                (Lang::It, "hello".to_owned()),
                (Lang::Pt, "bye".to_owned()),
                (Lang::Pt, "hello".to_owned()),
                (Lang::De, "bye".to_owned()),
                (Lang::De, "hello".to_owned()),
            ]
        );
    }

    #[test]
    fn a_key_missing_everywhere_shows_the_key_itself() {
        let catalog = catalog(&[(Lang::En, "hello = Hello"), (Lang::Fr, "hello = Bonjour")]);
        assert_eq!(catalog.text(Lang::Fr, "no-such-key", &[]), "no-such-key");
        assert_eq!(Catalog::builtin().text(Lang::Es, "no-such-key", &[]), "no-such-key");
    }

    #[test]
    fn keys_are_the_english_messages_sorted_without_terms_or_comments() {
        let catalog = catalog(&[(
            Lang::En,
            "# a comment = not a key\n-brand = Acme\nzeta = Z { -brand }\nalpha =\n    multi\n    line = still text\n",
        )]);
        assert_eq!(catalog.keys(), vec!["alpha".to_owned(), "zeta".to_owned()]);
        assert_eq!(catalog.text(Lang::En, "alpha", &[]), "multi\nline = still text");
        assert_eq!(catalog.text(Lang::En, "zeta", &[]), "Z Acme");
    }

    #[test]
    fn arguments_are_substituted_without_isolation_marks() {
        let catalog = Catalog::builtin();
        let text = catalog.text(Lang::En, "greeting", &[("name", "Ana".into())]);
        assert_eq!(text, "Hi Ana! I'm the virtual assistant. How can I help you today?");
        let text = catalog.text(
            Lang::De,
            "order-status",
            &[("order", "A-123".into()), ("status", String::from("versandt").into())],
        );
        assert_eq!(text, "Bestellung A-123: versandt.");
        for lang in Lang::ALL {
            let text = catalog.text(lang, "handoff", &[("team", "Support".into()), ("wait", "2 h".into())]);
            assert!(text.contains("Support") && text.contains("2 h"), "{lang}: {text}");
            assert!(!text.contains(['\u{2068}', '\u{2069}']), "{lang}: {text:?}");
        }
    }

    #[test]
    fn waiting_times_follow_each_languages_plural_rules() {
        let catalog = Catalog::builtin();
        let wait = |lang, key, n: i64| catalog.text(lang, key, &[("count", n.into())]);
        assert_eq!(wait(Lang::En, "wait-minutes", 1), "1 minute");
        assert_eq!(wait(Lang::En, "wait-minutes", 5), "5 minutes");
        assert_eq!(wait(Lang::En, "wait-minutes", 0), "0 minutes");
        assert_eq!(wait(Lang::En, "wait-hours", 1), "1 hour");
        assert_eq!(wait(Lang::En, "wait-days", 3), "3 days");
        assert_eq!(wait(Lang::Fr, "wait-minutes", 1), "1 minute");
        assert_eq!(wait(Lang::Fr, "wait-minutes", 2), "2 minutes");
        assert_eq!(wait(Lang::Fr, "wait-minutes", 0), "0 minute");
        assert_eq!(wait(Lang::Fr, "wait-hours", 24), "24 heures");
        assert_eq!(wait(Lang::Es, "wait-days", 1), "1 día");
        assert_eq!(wait(Lang::It, "wait-hours", 2), "2 ore");
        assert_eq!(wait(Lang::Pt, "wait-minutes", 0), "0 minutos");
        assert_eq!(wait(Lang::Pt, "wait-hours", 1), "1 hora");
        assert_eq!(wait(Lang::De, "wait-days", 2), "2 Tagen");
    }

    #[test]
    fn button_titles_fit_whatsapps_twenty_character_limit_in_every_language() {
        let catalog = Catalog::builtin();
        let buttons: Vec<String> = catalog
            .keys()
            .into_iter()
            .filter(|key| {
                key.starts_with("menu-")
                    || ["faq-yes", "faq-no", "list-button", "csat-button", "csat-no-comment"].contains(&key.as_str())
            })
            .filter(|key| key != "menu-footer")
            .collect();
        assert_eq!(buttons.len(), 9, "{buttons:?}");
        for lang in Lang::ALL {
            for key in &buttons {
                let title = catalog.text(lang, key, &[]);
                assert!(
                    !title.is_empty() && title.chars().count() <= 20,
                    "{lang} `{key}` is {} characters: {title}",
                    title.chars().count()
                );
            }
        }
    }

    #[test]
    fn the_language_of_a_sentence_in_each_supported_language_is_detected() {
        let sentences = [
            (
                Lang::En,
                "Hello, I still haven't received my order and it has been a week",
            ),
            (Lang::Fr, "Bonjour, je n'ai toujours pas reçu ma commande depuis lundi"),
            (
                Lang::Es,
                "Hola, todavía no he recibido mi pedido y ya ha pasado una semana",
            ),
            (Lang::It, "Buongiorno, non ho ancora ricevuto il mio ordine da lunedì"),
            (
                Lang::Pt,
                "Olá, ainda não recebi a minha encomenda e já passou uma semana",
            ),
            (
                Lang::De,
                "Hallo, ich habe meine Bestellung seit Montag immer noch nicht erhalten",
            ),
        ];
        for (lang, sentence) in sentences {
            assert_eq!(detect_language(sentence), Some(lang), "{sentence}");
        }
    }

    #[test]
    fn short_questions_are_recognised_by_their_telltale_words() {
        assert_eq!(detect_language("Where is my order please?"), Some(Lang::En));
        assert_eq!(detect_language("Je voudrais parler avec vous"), Some(Lang::Fr));
        assert_eq!(detect_language("Wo ist meine Bestellung?"), Some(Lang::De));
    }

    #[test]
    fn a_language_the_bot_does_not_speak_is_not_taken_for_one_it_does() {
        for text in [
            "Ik heb mijn bestelling nog steeds niet ontvangen",
            "Hei, en ole vieläkään saanut tilaustani maanantaista lähtien",
        ] {
            assert_eq!(detect_language(text), None, "{text}");
        }
    }

    #[test]
    fn no_telltale_word_belongs_to_two_languages() {
        for (i, (lang, words)) in FUNCTION_WORDS.iter().enumerate() {
            for (other, other_words) in &FUNCTION_WORDS[i + 1..] {
                for word in words.split_whitespace() {
                    assert!(
                        !other_words.split_whitespace().any(|w| w == word),
                        "`{word}` is listed for both {lang} and {other}"
                    );
                }
            }
        }
    }

    #[test]
    fn short_messages_tell_no_language() {
        for text in ["ok", "hi", "👍", "", "   ", "merci beaucoup", "12345 67890 #42"] {
            assert_eq!(detect_language(text), None, "{text:?}");
        }
    }

    #[test]
    fn language_codes_parse_with_or_without_region_and_in_any_case() {
        assert_eq!(Lang::parse("fr"), Some(Lang::Fr));
        assert_eq!(Lang::parse("FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("fr-FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("pt_BR"), Some(Lang::Pt));
        assert_eq!(Lang::parse(" de "), Some(Lang::De));
        assert_eq!(Lang::parse("nl"), None);
        assert_eq!(Lang::parse("english"), None);
        assert_eq!(Lang::parse(""), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
            assert_eq!(lang.to_string(), lang.code());
        }
    }

    #[test]
    fn template_language_codes_are_the_ones_meta_approves_templates_in() {
        let codes: Vec<&str> = Lang::ALL.iter().map(|l| l.template_code()).collect();
        assert_eq!(codes, ["en", "fr", "es", "it", "pt_PT", "de"]);
    }

    #[test]
    fn a_language_is_stored_as_its_lowercase_code() {
        assert_eq!(serde_json::to_string(&Lang::Pt).unwrap(), "\"pt\"");
        assert_eq!(serde_json::from_str::<Lang>("\"de\"").unwrap(), Lang::De);
        assert_eq!(Lang::default(), Lang::En);
    }

    #[test]
    fn a_catalogue_that_does_not_parse_is_refused_with_its_language_and_line() {
        let err =
            Catalog::from_sources(&[(Lang::En, "hello = Hello"), (Lang::It, "ciao = Ciao\n= broken")]).unwrap_err();
        assert!(err.contains("it catalogue") && err.contains("line 2"), "{err}");
        let err = Catalog::from_sources(&[(Lang::En, "hello = Hello"), (Lang::En, "hello = Hi")]).unwrap_err();
        assert!(err.contains("en catalogue") && err.contains("hello"), "{err}");
    }

    #[test]
    fn the_catalog_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Catalog>();
        let catalog = std::sync::Arc::new(Catalog::builtin());
        let other = std::sync::Arc::clone(&catalog);
        let text = std::thread::spawn(move || other.text(Lang::It, "faq-no", &[]))
            .join()
            .unwrap();
        assert_eq!(text, "No");
    }
}
