//! Escalation triggers that read the customer's words: text normalisation for
//! keyword matching, and the frustration score with its parts (so the ticket
//! can say why).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// Text reduced for matching: lower case, accents removed, split into words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalised {
    pub words: Vec<String>,
}

impl Normalised {
    pub fn new(text: &str) -> Normalised {
        let folded: String = text
            .nfd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        let words = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        Normalised { words }
    }

    /// True when the phrase's words appear consecutively, as whole words.
    pub fn contains_phrase(&self, phrase: &Normalised) -> bool {
        !phrase.words.is_empty()
            && self
                .words
                .windows(phrase.words.len())
                .any(|w| w == phrase.words.as_slice())
    }

    /// A short, stable fingerprint of the words (to spot a repeated message
    /// without storing its text).
    pub fn fingerprint(&self) -> String {
        hex::encode(&Sha256::digest(self.words.join(" ").as_bytes())[..8])
    }
}

/// A trigger that fired, as shown on the ticket: its name and what set it off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerHit {
    /// `direct_request`, `sensitive_topic`, `frustration`, `vip`, `failed_replies`, `out_of_hours`, `order_lookup`, `transfer`.
    pub name: String,
    /// The words, count or score behind it.
    pub detail: String,
}

impl TriggerHit {
    pub fn new(name: &str, detail: impl Into<String>) -> Self {
        TriggerHit {
            name: name.to_owned(),
            detail: detail.into(),
        }
    }
}

/// How frustration is scored (the desk configuration's `[frustration]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FrustrationConfig {
    /// Escalate when the score reaches this.
    pub threshold: f64,
    /// Capitals count when the message has at least this many letters…
    pub caps_min_letters: usize,
    /// …and at least this share of them are capitals.
    pub caps_ratio: f64,
    pub caps_weight: f64,
    /// Runs of `!` or `?` at least this long count.
    pub punctuation_run: usize,
    pub punctuation_weight: f64,
    /// Per negative word; at most three count.
    pub lexicon_weight: f64,
    /// The same message as one of the customer's last three.
    pub repeat_weight: f64,
}

impl Default for FrustrationConfig {
    fn default() -> Self {
        FrustrationConfig {
            threshold: 3.0,
            caps_min_letters: 6,
            caps_ratio: 0.7,
            caps_weight: 1.5,
            punctuation_run: 3,
            punctuation_weight: 1.0,
            lexicon_weight: 1.5,
            repeat_weight: 2.0,
        }
    }
}

/// A frustration score and its parts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrustrationScore {
    pub total: f64,
    pub caps: f64,
    pub punctuation: f64,
    pub lexicon: f64,
    #[serde(default)]
    pub lexicon_words: Vec<String>,
    pub repeat: f64,
}

impl FrustrationScore {
    /// `text`: the message; `negative_words`: the lexicon words it contains;
    /// `repeated`: whether it repeats one of the customer's last messages.
    pub fn of(text: &str, negative_words: Vec<String>, repeated: bool, config: &FrustrationConfig) -> Self {
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        let capitals = letters.iter().filter(|c| c.is_uppercase()).count();
        let shouting =
            letters.len() >= config.caps_min_letters && capitals as f64 >= config.caps_ratio * letters.len() as f64;
        let caps = if shouting { config.caps_weight } else { 0.0 };

        let longest_run = longest_run_of(text, &['!', '?', '¡', '¿']);
        let punctuation = if longest_run >= config.punctuation_run {
            config.punctuation_weight
        } else {
            0.0
        };

        let lexicon = config.lexicon_weight * negative_words.len().min(3) as f64;
        let repeat = if repeated { config.repeat_weight } else { 0.0 };
        FrustrationScore {
            total: caps + punctuation + lexicon + repeat,
            caps,
            punctuation,
            lexicon,
            lexicon_words: negative_words,
            repeat,
        }
    }

    pub fn reaches(&self, config: &FrustrationConfig) -> bool {
        self.total >= config.threshold
    }

    /// The parts that count, for the ticket: "3.5 = capitals 1.5 + \"useless\" 1.5 + …".
    pub fn explain(&self) -> String {
        let mut parts = Vec::new();
        if self.caps > 0.0 {
            parts.push(format!("capitals {}", self.caps));
        }
        if self.punctuation > 0.0 {
            parts.push(format!("!!!/??? {}", self.punctuation));
        }
        if self.lexicon > 0.0 {
            parts.push(format!("words {:?} {}", self.lexicon_words, self.lexicon));
        }
        if self.repeat > 0.0 {
            parts.push(format!("repeated message {}", self.repeat));
        }
        format!("score {} = {}", self.total, parts.join(" + "))
    }
}

fn longest_run_of(text: &str, marks: &[char]) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        if marks.contains(&c) {
            run += 1;
            best = best.max(run);
        } else if !c.is_whitespace() {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str, words: &[&str], repeated: bool) -> FrustrationScore {
        FrustrationScore::of(
            text,
            words.iter().map(|w| (*w).to_owned()).collect(),
            repeated,
            &FrustrationConfig::default(),
        )
    }

    #[test]
    fn words_are_matched_whole_ignoring_case_and_accents() {
        let text = Normalised::new("C'est INUTILE, je veux un Conseiller!");
        assert!(text.contains_phrase(&Normalised::new("inutile")));
        assert!(text.contains_phrase(&Normalised::new("conseiller")));
        assert!(!text.contains_phrase(&Normalised::new("util")));
        assert!(Normalised::new("Où est ma commande ?").contains_phrase(&Normalised::new("ou est ma commande")));
        assert!(!Normalised::new("the reagent").contains_phrase(&Normalised::new("agent")));
    }

    #[test]
    fn shouting_with_exclamation_marks_and_a_negative_word_crosses_the_threshold() {
        let s = score("C'EST INUTILE !!!", &["inutile"], false);
        assert_eq!((s.caps, s.punctuation, s.lexicon), (1.5, 1.0, 1.5));
        assert!(s.reaches(&FrustrationConfig::default()));
        assert!(s.explain().contains("inutile"));
    }

    #[test]
    fn a_calm_message_scores_nothing() {
        let s = score("Hello, where is my order?", &[], false);
        assert_eq!(s.total, 0.0);
    }

    #[test]
    fn short_capitals_like_ok_or_an_order_code_are_not_shouting() {
        assert_eq!(score("OK", &[], false).caps, 0.0);
        assert_eq!(score("AB-1234", &[], false).caps, 0.0);
    }

    #[test]
    fn a_repeated_message_adds_to_the_score_and_negative_words_count_at_most_three_times() {
        assert_eq!(score("where is it", &[], true).repeat, 2.0);
        assert_eq!(score("x", &["a", "b", "c", "d"], false).lexicon, 4.5);
    }

    #[test]
    fn spaced_exclamation_marks_still_form_a_run() {
        assert_eq!(score("why ? ? ?", &[], false).punctuation, 1.0);
        assert_eq!(score("why?", &[], false).punctuation, 0.0);
    }

    #[test]
    fn the_same_words_give_the_same_fingerprint() {
        assert_eq!(
            Normalised::new("Where is MY order?").fingerprint(),
            Normalised::new("where is my order").fingerprint()
        );
        assert_ne!(
            Normalised::new("where is my order").fingerprint(),
            Normalised::new("where is my parcel").fingerprint()
        );
    }
}
