//! The desk configuration: teams and their calendars, routing by category, the
//! menu, the knowledge base, keyword lists per language, the escalation
//! thresholds and the agents' canned responses. Parsed from TOML once at init
//! and validated; every error names the field and says what is wrong.

use crate::domain::calendar::{BusinessCalendar, CalendarSpec};
use crate::domain::canned::{self, CannedResponse};
use crate::domain::i18n::{Catalog, Lang};
use crate::domain::media::QualityThresholds;
use crate::domain::outbound::{MAX_BUTTON_TITLE, MAX_BUTTONS};
use crate::domain::sla::{SlaConfig, SlaContext};
use crate::domain::ticket::{CustomerTier, Priority};
use crate::domain::triggers::{FrustrationConfig, Normalised};
use crate::domain::vision::VisionReport;
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// The example configuration shipped with the functions (`config/desk.toml`),
/// used when `DESK_CONFIG_FILE` names no other file.
pub const EMBEDDED_CONFIG: &str = include_str!("../../../config/desk.toml");

/// List messages: at most 10 rows, titles up to 24 characters, descriptions up to 72.
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_DESCRIPTION: usize = 72;

pub type LangMap<T> = BTreeMap<Lang, T>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    pub desk: DeskSection,
    pub teams: Vec<TeamConfig>,
    #[serde(default)]
    pub categories: Vec<CategoryConfig>,
    pub menu: MenuConfig,
    #[serde(default)]
    pub faq: Vec<FaqEntry>,
    pub keywords: Keywords,
    #[serde(default)]
    pub frustration: FrustrationConfig,
    #[serde(default)]
    pub vip: VipConfig,
    #[serde(default)]
    pub order_lookup: OrderLookupConfig,
    #[serde(default)]
    pub media: MediaConfig,
    /// Service levels: policies, warning, escalation levels, surveys.
    pub sla: SlaConfig,
    /// Agents' canned responses (`[[canned]]`), one entry per id and language.
    #[serde(default)]
    pub canned: Vec<CannedResponse>,
}

/// What the media function does with photos.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    #[serde(default)]
    pub quality: QualityThresholds,
    /// Labels and text found in an image that point to a category (and so a team).
    #[serde(default)]
    pub rules: Vec<MediaRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRule {
    pub category: String,
    /// Vision labels (any of them, case-insensitive), e.g. "Mobile Phone", "Broken".
    #[serde(default)]
    pub labels: Vec<String>,
    /// Patterns matched against the image's text, e.g. "E-\\d{3}".
    #[serde(default)]
    pub text: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSection {
    /// The business's name, used in greetings.
    pub name: String,
    /// The team that owns new tickets and takes handoffs no category claims.
    pub default_team: String,
    #[serde(default)]
    pub default_language: Lang,
    /// Offered to customers when no human is available.
    pub support_email: String,
    /// Consecutive failed bot replies before a human takes over.
    #[serde(default = "default_failure_limit")]
    pub failure_limit: u32,
    /// A link to a ticket in the agents' console; `{ticket}` is replaced.
    #[serde(default)]
    pub ticket_url: Option<String>,
    /// How long the bot waits after a customer's last message before it
    /// answers, so a burst of short lines gets one answer (0 answers at once).
    #[serde(default = "default_quiet_period_ms")]
    pub quiet_period_ms: u64,
    /// While the bot works on an answer, the customer sees "typing…".
    #[serde(default = "default_true")]
    pub typing_indicator: bool,
}

fn default_failure_limit() -> u32 {
    3
}

/// Three seconds: lines typed about a second apart (the common burst) arrive
/// within it even with a second of delivery jitter; every bot answer waits
/// that long (the customer sees "typing…" meanwhile).
fn default_quiet_period_ms() -> u64 {
    3_000
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub id: String,
    /// Shown to customers ("our billing team").
    pub name: LangMap<String>,
    /// 2 for agents, 3 for specialists.
    pub tier: u8,
    /// Opening hours; absent means always open.
    #[serde(default)]
    pub calendar: Option<CalendarSpec>,
    /// Offered out of hours; the desk's address when absent.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Round-robin assignment and the agents' capacity.
    #[serde(default)]
    pub assignment: crate::domain::assignment::AssignmentConfig,
}

/// Incoming-webhook URLs. `${NAME}` is replaced by the environment variable
/// NAME; a URL naming an unset variable is left out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default)]
    pub slack_webhook_url: Option<String>,
    #[serde(default)]
    pub teams_webhook_url: Option<String>,
}

impl NotifyConfig {
    /// The Slack and Teams URLs with `${NAME}` replaced through `lookup`; a URL
    /// naming a variable that `lookup` does not know is left out.
    pub fn resolved(&self, lookup: impl Fn(&str) -> Option<String>) -> (Option<String>, Option<String>) {
        let expand = |url: &Option<String>| url.as_deref().and_then(|u| expand_variables(u, &lookup));
        (expand(&self.slack_webhook_url), expand(&self.teams_webhook_url))
    }
}

/// Replaces each `${NAME}` in `text`; None when a name is unknown or a `${` is unclosed.
pub fn expand_variables(text: &str, lookup: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        out.push_str(&lookup(&rest[start + 2..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    pub id: String,
    pub team: String,
    #[serde(default = "normal_priority")]
    pub priority: Priority,
    /// Sensitive topics (billing, refunds, cancellation, legal) go to a human at once.
    #[serde(default)]
    pub sensitive: bool,
    /// 2 (agents, the default) or 3 (specialists).
    #[serde(default)]
    pub tier: Option<u8>,
    /// The bot asks for a photo of the problem before handing over (damaged goods, returns).
    #[serde(default)]
    pub needs_photo: bool,
    /// The team needs the customer's phone number (to call back, to verify a
    /// payment): a customer known only by their WhatsApp user id is asked to
    /// share it, with WhatsApp's contact-info button, in the handoff message.
    #[serde(default)]
    pub needs_phone: bool,
    pub keywords: LangMap<Vec<String>>,
}

fn normal_priority() -> Priority {
    Priority::Normal
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MenuStyle {
    Buttons,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MenuItem {
    OrderStatus,
    Faq,
    Agent,
    Language,
}

impl MenuItem {
    /// The reply id: routing uses this, never the title.
    pub fn id(self) -> &'static str {
        match self {
            MenuItem::OrderStatus => "menu.order_status",
            MenuItem::Faq => "menu.faq",
            MenuItem::Agent => "menu.agent",
            MenuItem::Language => "menu.language",
        }
    }
    /// The catalogue key of its title.
    pub fn title_key(self) -> &'static str {
        match self {
            MenuItem::OrderStatus => "menu-order-status",
            MenuItem::Faq => "menu-faq",
            MenuItem::Agent => "menu-agent",
            MenuItem::Language => "menu-language",
        }
    }
    pub fn from_id(id: &str) -> Option<MenuItem> {
        [
            MenuItem::OrderStatus,
            MenuItem::Faq,
            MenuItem::Agent,
            MenuItem::Language,
        ]
        .into_iter()
        .find(|i| i.id() == id)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuConfig {
    pub style: MenuStyle,
    pub items: Vec<MenuItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    pub id: String,
    /// List-row title (≤ 24 characters).
    pub title: LangMap<String>,
    /// The question as customers ask it (fuzzy-matched; the row's description, ≤ 72).
    pub question: LangMap<String>,
    pub answer: LangMap<String>,
    #[serde(default)]
    pub keywords: LangMap<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    /// A direct request for a human.
    pub agent: LangMap<Vec<String>>,
    /// Back to the bot while waiting for an agent.
    pub cancel: LangMap<Vec<String>>,
    /// The frustration lexicon.
    pub negative: LangMap<Vec<String>>,
    pub greeting: LangMap<Vec<String>>,
    /// Words that ask for an order's status.
    #[serde(default)]
    pub order_status: LangMap<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VipConfig {
    pub priority: Priority,
    /// VIP customers go straight to an agent instead of the menu.
    pub skip_menu: bool,
}

impl Default for VipConfig {
    fn default() -> Self {
        VipConfig {
            priority: Priority::High,
            skip_menu: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderLookupConfig {
    pub source: OrderSource,
    /// What an order number looks like (after a leading `#` is removed).
    pub number_pattern: String,
    /// Shown to customers as an example.
    pub example: String,
}

impl Default for OrderLookupConfig {
    fn default() -> Self {
        OrderLookupConfig {
            source: OrderSource::None,
            number_pattern: "^[A-Za-z0-9-]{4,20}$".into(),
            example: "#12345".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderSource {
    /// No source: an agent looks the order up.
    #[default]
    None,
    /// `GET url` with `{order}` replaced; 200 `{"status": "...", "detail": "..."}`, 404 not found.
    Http {
        url: String,
        #[serde(default = "default_timeout")]
        timeout_ms: u64,
    },
    /// A DynamoDB table keyed by `order_id` (S) with a `status` attribute.
    Dynamodb { table: String },
}

fn default_timeout() -> u64 {
    2000
}

/// A configuration the desk refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskConfigError {
    #[error("desk configuration is not valid TOML: {0}")]
    Syntax(String),
    #[error("desk configuration: {field}: {problem}")]
    Invalid { field: String, problem: String },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> DeskConfigError {
    DeskConfigError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A team, ready to use.
#[derive(Debug, Clone)]
pub struct Team {
    pub config: TeamConfig,
    pub calendar: BusinessCalendar,
}

impl Team {
    pub fn name(&self, lang: Lang) -> &str {
        self.config
            .name
            .get(&lang)
            .or_else(|| self.config.name.get(&Lang::En))
            .map(String::as_str)
            .unwrap_or(&self.config.id)
    }
}

/// The validated configuration, with its matchers prepared.
#[derive(Debug, Clone)]
pub struct Desk {
    pub config: DeskConfig,
    teams: BTreeMap<String, Team>,
    order_pattern: Regex,
    media_rules: Vec<(String, Vec<String>, Vec<Regex>)>,
    always: BusinessCalendar,
}

impl Desk {
    /// Parses and validates. `catalog` supplies the menu titles whose lengths are checked.
    pub fn from_toml(text: &str, catalog: &Catalog) -> Result<Desk, DeskConfigError> {
        let config: DeskConfig = toml::from_str(text).map_err(|e| DeskConfigError::Syntax(e.to_string()))?;
        Desk::new(config, catalog)
    }

    pub fn new(config: DeskConfig, catalog: &Catalog) -> Result<Desk, DeskConfigError> {
        let mut teams = BTreeMap::new();
        for (i, team) in config.teams.iter().enumerate() {
            let field = |f: &str| format!("teams[{i}].{f}");
            check_id(&field("id"), &team.id)?;
            if !(2..=3).contains(&team.tier) {
                return Err(invalid(
                    field("tier"),
                    format!("must be 2 (agents) or 3 (specialists), not {}", team.tier),
                ));
            }
            if !team.name.contains_key(&Lang::En) {
                return Err(invalid(field("name"), "needs an English name (`en`)"));
            }
            let calendar = match &team.calendar {
                Some(spec) => {
                    BusinessCalendar::from_spec(spec).map_err(|e| invalid(field("calendar"), e.to_string()))?
                }
                None => BusinessCalendar::always_open(),
            };
            if let Some(email) = &team.email {
                check_email(&field("email"), email)?;
            }
            if teams
                .insert(
                    team.id.clone(),
                    Team {
                        config: team.clone(),
                        calendar,
                    },
                )
                .is_some()
            {
                return Err(invalid(field("id"), format!("team {:?} is defined twice", team.id)));
            }
        }
        if !teams.contains_key(&config.desk.default_team) {
            return Err(invalid(
                "desk.default_team",
                format!("no team has the id {:?}", config.desk.default_team),
            ));
        }
        check_email("desk.support_email", &config.desk.support_email)?;
        if config.desk.failure_limit == 0 {
            return Err(invalid("desk.failure_limit", "must be at least 1"));
        }

        let mut category_ids = HashSet::new();
        for (i, c) in config.categories.iter().enumerate() {
            let field = |f: &str| format!("categories[{i}].{f}");
            check_id(&field("id"), &c.id)?;
            if !category_ids.insert(c.id.as_str()) {
                return Err(invalid(field("id"), format!("category {:?} is defined twice", c.id)));
            }
            if !teams.contains_key(&c.team) {
                return Err(invalid(field("team"), format!("no team has the id {:?}", c.team)));
            }
            if let Some(tier) = c.tier
                && !(2..=3).contains(&tier)
            {
                return Err(invalid(field("tier"), format!("must be 2 or 3, not {tier}")));
            }
            check_keywords(&field("keywords"), &c.keywords)?;
        }

        let menu = &config.menu;
        let (max_items, max_title) = match menu.style {
            MenuStyle::Buttons => (MAX_BUTTONS, MAX_BUTTON_TITLE),
            MenuStyle::List => (MAX_LIST_ROWS, MAX_ROW_TITLE),
        };
        if menu.items.is_empty() || menu.items.len() > max_items {
            return Err(invalid(
                "menu.items",
                format!(
                    "a {:?} menu holds 1 to {max_items} items, not {}",
                    menu.style,
                    menu.items.len()
                )
                .to_lowercase(),
            ));
        }
        let mut seen = HashSet::new();
        for item in &menu.items {
            if !seen.insert(*item) {
                return Err(invalid("menu.items", format!("{:?} appears twice", item.id())));
            }
            for lang in Lang::ALL {
                let title = catalog.text(lang, item.title_key(), &[]);
                if title.chars().count() > max_title {
                    return Err(invalid(
                        "menu.items",
                        format!(
                            "the {} title of {} ({title:?}) is longer than {max_title} characters",
                            lang.code(),
                            item.id()
                        ),
                    ));
                }
            }
        }
        if menu.items.contains(&MenuItem::Faq) && config.faq.is_empty() {
            return Err(invalid(
                "faq",
                "the menu offers the FAQ but the knowledge base is empty",
            ));
        }

        // The FAQ is shown as a list: its rows plus one to talk to an agent.
        if config.faq.len() > MAX_LIST_ROWS - 1 {
            return Err(invalid(
                "faq",
                format!(
                    "at most {} entries fit in a list, not {}",
                    MAX_LIST_ROWS - 1,
                    config.faq.len()
                ),
            ));
        }
        let mut faq_ids = HashSet::new();
        for (i, entry) in config.faq.iter().enumerate() {
            let field = |f: &str| format!("faq[{i}].{f}");
            check_id(&field("id"), &entry.id)?;
            if !faq_ids.insert(entry.id.as_str()) {
                return Err(invalid(field("id"), format!("entry {:?} is defined twice", entry.id)));
            }
            for (name, map, max) in [
                ("title", &entry.title, MAX_ROW_TITLE),
                ("question", &entry.question, MAX_ROW_DESCRIPTION),
                ("answer", &entry.answer, crate::domain::outbound::MAX_TEXT),
            ] {
                if !map.contains_key(&Lang::En) {
                    return Err(invalid(field(name), "needs an English text (`en`)"));
                }
                for (lang, text) in map {
                    if text.trim().is_empty() || text.chars().count() > max {
                        return Err(invalid(
                            format!("{}.{}", field(name), lang.code()),
                            format!("must have 1 to {max} characters, not {}", text.chars().count()),
                        ));
                    }
                }
            }
        }

        for (name, map) in [
            ("agent", &config.keywords.agent),
            ("cancel", &config.keywords.cancel),
            ("negative", &config.keywords.negative),
            ("greeting", &config.keywords.greeting),
        ] {
            check_keywords(&format!("keywords.{name}"), map)?;
        }

        let f = &config.frustration;
        if f.threshold.is_nan() || f.threshold <= 0.0 || !(0.0..=1.0).contains(&f.caps_ratio) || f.punctuation_run < 2 {
            return Err(invalid(
                "frustration",
                "threshold must be above 0, caps_ratio between 0 and 1, punctuation_run at least 2",
            ));
        }

        let order = &config.order_lookup;
        let order_pattern = Regex::new(&order.number_pattern)
            .map_err(|e| invalid("order_lookup.number_pattern", format!("is not a valid pattern: {e}")))?;
        match &order.source {
            OrderSource::Http { url, timeout_ms } => {
                if !url.contains("{order}") || !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid(
                        "order_lookup.source.url",
                        "must be an http(s) URL containing {order}",
                    ));
                }
                if !(1..=10_000).contains(timeout_ms) {
                    return Err(invalid("order_lookup.source.timeout_ms", "must be between 1 and 10000"));
                }
            }
            OrderSource::Dynamodb { table } if table.trim().is_empty() => {
                return Err(invalid("order_lookup.source.table", "is empty"));
            }
            _ => {}
        }
        let mut media_rules = Vec::new();
        for (i, rule) in config.media.rules.iter().enumerate() {
            if !category_ids.contains(rule.category.as_str()) {
                return Err(invalid(
                    format!("media.rules[{i}].category"),
                    format!("no category has the id {:?}", rule.category),
                ));
            }
            if rule.labels.is_empty() && rule.text.is_empty() {
                return Err(invalid(format!("media.rules[{i}]"), "needs labels or text patterns"));
            }
            let patterns = rule
                .text
                .iter()
                .map(|t| Regex::new(&format!("(?i){t}")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(format!("media.rules[{i}].text"), format!("is not a valid pattern: {e}")))?;
            let labels = rule.labels.iter().map(|l| l.to_lowercase()).collect();
            media_rules.push((rule.category.clone(), labels, patterns));
        }
        let q = &config.media.quality;
        if q.dark_below >= q.bright_above || q.blur_below < 0.0 {
            return Err(invalid(
                "media.quality",
                "dark_below must be below bright_above, and blur_below not negative",
            ));
        }
        let team_tiers: Vec<(&str, u8)> = teams.values().map(|t| (t.config.id.as_str(), t.config.tier)).collect();
        config
            .sla
            .check(&team_tiers)
            .map_err(|(field, why)| invalid(field, why))?;
        let team_ids: Vec<&str> = teams.keys().map(String::as_str).collect();
        canned::check(&config.canned, &team_ids)?;
        Ok(Desk {
            config,
            teams,
            order_pattern,
            media_rules,
            always: BusinessCalendar::always_open(),
        })
    }

    /// The SLA policy and calendar of a ticket on `team` (the default team when unknown).
    pub fn sla_context(&self, team: &str, priority: Priority, tier: CustomerTier) -> SlaContext<'_> {
        let team = self.team(team).unwrap_or_else(|| self.default_team());
        SlaContext {
            config: &self.config.sla,
            policy: self.config.sla.policy(&team.config.id, priority, tier),
            calendar: &team.calendar,
            always: &self.always,
        }
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.get(id)
    }

    pub fn default_team(&self) -> &Team {
        &self.teams[&self.config.desk.default_team]
    }

    pub fn category(&self, id: &str) -> Option<&CategoryConfig> {
        self.config.categories.iter().find(|c| c.id == id)
    }

    /// The order number in `text`, normalised (a leading `#` removed, upper case), when it matches the pattern.
    pub fn parse_order_number(&self, text: &str) -> Option<String> {
        let candidate = text.trim().trim_start_matches('#').trim();
        self.order_pattern.is_match(candidate).then(|| candidate.to_uppercase())
    }

    /// The first keyword of `lists` (any language) found in `text` as whole words.
    pub fn find_keyword<'a>(&self, lists: &'a LangMap<Vec<String>>, text: &Normalised) -> Option<&'a str> {
        lists
            .values()
            .flatten()
            .find(|k| text.contains_phrase(&Normalised::new(k)))
            .map(String::as_str)
    }

    /// The category whose keywords the text contains, with the keyword.
    pub fn detect_category(&self, text: &Normalised) -> Option<(&CategoryConfig, &str)> {
        self.config
            .categories
            .iter()
            .find_map(|c| self.find_keyword(&c.keywords, text).map(|k| (c, k)))
    }

    /// The knowledge-base entry the text asks about: one of its keywords, or a
    /// question close enough (normalised Levenshtein similarity ≥ 0.7 in any language).
    pub fn match_faq(&self, text: &Normalised) -> Option<&FaqEntry> {
        if text.words.is_empty() {
            return None;
        }
        if let Some(entry) = self
            .config
            .faq
            .iter()
            .find(|e| self.find_keyword(&e.keywords, text).is_some())
        {
            return Some(entry);
        }
        let joined = text.words.join(" ");
        self.config
            .faq
            .iter()
            .flat_map(|e| {
                e.question
                    .values()
                    .map(move |q| (e, Normalised::new(q).words.join(" ")))
            })
            .map(|(e, question)| (e, strsim::normalized_levenshtein(&joined, &question)))
            .filter(|(_, score)| *score >= 0.7)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(e, _)| e)
    }

    /// The one language whose keyword lists the text matches, when only one
    /// does (a French "bonjour" tells what detection cannot from one word).
    pub fn language_hint(&self, text: &Normalised) -> Option<Lang> {
        let k = &self.config.keywords;
        let mut langs: Vec<Lang> = [&k.greeting, &k.agent, &k.cancel, &k.negative, &k.order_status]
            .into_iter()
            .flat_map(|map| map.iter())
            .filter(|(_, words)| words.iter().any(|w| text.contains_phrase(&Normalised::new(w))))
            .map(|(lang, _)| *lang)
            .collect();
        langs.sort();
        langs.dedup();
        match langs.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// The category an image's labels or text point to, by the first rule that matches.
    pub fn media_category(&self, report: &VisionReport) -> Option<&CategoryConfig> {
        let labels: Vec<String> = report.labels.iter().map(|l| l.name.to_lowercase()).collect();
        self.media_rules
            .iter()
            .find(|(_, rule_labels, patterns)| {
                rule_labels.iter().any(|l| labels.contains(l))
                    || report.text.iter().any(|t| patterns.iter().any(|p| p.is_match(t)))
            })
            .and_then(|(category, _, _)| self.category(category))
    }

    pub fn faq(&self, id: &str) -> Option<&FaqEntry> {
        self.config.faq.iter().find(|e| e.id == id)
    }

    /// The canned responses `team` may use matching `query`, in `language` or
    /// else the desk's default language, best first (see [`canned::search`]).
    pub fn search_canned(&self, team: &str, language: Lang, query: &str) -> Vec<&CannedResponse> {
        canned::search(
            &self.config.canned,
            team,
            language,
            self.config.desk.default_language,
            query,
        )
    }

    /// The canned response `id` as `team` may use it, in `language` or else
    /// the desk's default language (see [`canned::find`]).
    pub fn canned_response(&self, id: &str, team: &str, language: Lang) -> Option<&CannedResponse> {
        canned::find(
            &self.config.canned,
            id,
            team,
            language,
            self.config.desk.default_language,
        )
    }
}

pub(crate) fn check_id(field: &str, id: &str) -> Result<(), DeskConfigError> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{id:?} must be 1 to 40 lower-case letters, digits, - or _"),
        ))
    }
}

fn check_email(field: &str, email: &str) -> Result<(), DeskConfigError> {
    match email.split_once('@') {
        Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(()),
        _ => Err(invalid(field, format!("{email:?} is not an email address"))),
    }
}

fn check_keywords(field: &str, map: &LangMap<Vec<String>>) -> Result<(), DeskConfigError> {
    if map.values().all(Vec::is_empty) {
        return Err(invalid(field, "needs at least one keyword"));
    }
    for (lang, words) in map {
        if let Some(bad) = words.iter().find(|w| Normalised::new(w).words.is_empty()) {
            return Err(invalid(
                format!("{field}.{}", lang.code()),
                format!("{bad:?} has no letters or digits"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin()
    }

    fn with(edit: impl FnOnce(&mut toml::Table)) -> Result<Desk, DeskConfigError> {
        let mut table: toml::Table = toml::from_str(EMBEDDED_CONFIG).unwrap();
        edit(&mut table);
        Desk::from_toml(&toml::to_string(&table).unwrap(), &catalog())
    }

    fn field_of(result: Result<Desk, DeskConfigError>) -> String {
        match result {
            Err(DeskConfigError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn the_shipped_configuration_is_valid() {
        let desk = Desk::from_toml(EMBEDDED_CONFIG, &catalog()).unwrap();
        assert_eq!(desk.default_team().config.id, "support");
        assert_eq!(desk.team("tech").unwrap().config.tier, 3);
    }

    #[test]
    fn a_category_routed_to_an_unknown_team_names_the_field() {
        let field = field_of(with(|t| {
            t["categories"].as_array_mut().unwrap()[0]
                .as_table_mut()
                .unwrap()
                .insert("team".into(), "nobody".into());
        }));
        assert_eq!(field, "categories[0].team");
    }

    #[test]
    fn a_button_menu_with_four_items_is_refused() {
        let field = field_of(with(|t| {
            t["menu"]
                .as_table_mut()
                .unwrap()
                .insert("style".into(), "buttons".into());
        }));
        assert_eq!(field, "menu.items");
    }

    #[test]
    fn an_faq_title_longer_than_a_list_row_allows_is_refused() {
        let field = field_of(with(|t| {
            let faq = t["faq"].as_array_mut().unwrap()[0].as_table_mut().unwrap();
            faq["title"]
                .as_table_mut()
                .unwrap()
                .insert("fr".into(), "Un titre beaucoup trop long pour une ligne".into());
        }));
        assert_eq!(field, "faq[0].title.fr");
    }

    #[test]
    fn a_bad_calendar_and_a_bad_order_pattern_name_their_fields() {
        let calendar = with(|t| {
            let team = t["teams"].as_array_mut().unwrap()[1].as_table_mut().unwrap();
            team["calendar"]
                .as_table_mut()
                .unwrap()
                .insert("time_zone".into(), "Mars/Olympus".into());
        });
        assert_eq!(field_of(calendar), "teams[1].calendar");
        let pattern = with(|t| {
            t["order_lookup"]
                .as_table_mut()
                .unwrap()
                .insert("number_pattern".into(), "([a-z".into());
        });
        assert_eq!(field_of(pattern), "order_lookup.number_pattern");
    }

    #[test]
    fn an_unknown_setting_is_a_syntax_error_that_names_it() {
        let result = with(|t| {
            t["desk"]
                .as_table_mut()
                .unwrap()
                .insert("falure_limit".into(), 3.into());
        });
        match result {
            Err(DeskConfigError::Syntax(message)) => assert!(message.contains("falure_limit"), "{message}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn the_default_team_must_exist_and_the_email_must_look_like_one() {
        let team = with(|t| {
            t["desk"]
                .as_table_mut()
                .unwrap()
                .insert("default_team".into(), "ghosts".into());
        });
        assert_eq!(field_of(team), "desk.default_team");
        let email = with(|t| {
            t["desk"]
                .as_table_mut()
                .unwrap()
                .insert("support_email".into(), "nobody".into());
        });
        assert_eq!(field_of(email), "desk.support_email");
    }

    #[test]
    fn notification_urls_expand_environment_variables_and_drop_unknown_ones() {
        let notify = NotifyConfig {
            slack_webhook_url: Some("${HOOKS}/slack/support".into()),
            teams_webhook_url: Some("${MISSING}/teams".into()),
        };
        let (slack, teams) =
            notify.resolved(|name| (name == "HOOKS").then(|| "http://127.0.0.1:3000/_local/hooks".to_owned()));
        assert_eq!(
            slack.as_deref(),
            Some("http://127.0.0.1:3000/_local/hooks/slack/support")
        );
        assert_eq!(teams, None);
    }

    #[test]
    fn questions_match_the_knowledge_base_by_keyword_or_closeness() {
        let desk = Desk::from_toml(EMBEDDED_CONFIG, &catalog()).unwrap();
        let id = |text: &str| desk.match_faq(&Normalised::new(text)).map(|e| e.id.clone());
        assert_eq!(id("how long does delivery take"), Some("delivery".into()));
        assert_eq!(id("How long does the delivry take?"), Some("delivery".into()));
        assert_eq!(id("Comment retourner un article ?"), Some("returns".into()));
        assert_eq!(id("what is the meaning of life"), None);
    }

    #[test]
    fn order_numbers_are_checked_against_the_pattern() {
        let desk = Desk::from_toml(EMBEDDED_CONFIG, &catalog()).unwrap();
        assert_eq!(desk.parse_order_number(" #ab-1234 "), Some("AB-1234".into()));
        assert_eq!(desk.parse_order_number("no idea"), None);
        assert_eq!(desk.parse_order_number("12"), None);
    }
}
