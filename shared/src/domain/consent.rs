//! Whether a customer agreed to hear from the business first. WhatsApp's
//! policy asks for the customer's opt-in before a business starts a
//! conversation with a template, and for their opt-out to be honoured: the
//! helpdesk records both (from an agent, or from the customer's own "STOP" or
//! "START"), and an agent's proactive message goes only to a customer whose
//! latest word was an opt-in.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    OptedIn,
    OptedOut,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::OptedIn => "opted_in",
            ConsentStatus::OptedOut => "opted_out",
        }
    }
}

/// The customer's latest word on messages the business starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub status: ConsentStatus,
    pub at_ms: i64,
    /// Who recorded it: an agent's name, or `customer` for their own words.
    pub by: String,
    /// Where it comes from: what the agent said (a signed form, a call), or
    /// the customer's keyword.
    pub source: String,
}

/// What a customer's whole message says about their consent: a keyword
/// alone (any case, surrounding spaces and punctuation ignored) in the
/// desk's languages; anything longer is a conversation, not a keyword.
pub fn keyword(text: &str) -> Option<ConsentStatus> {
    let word = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .to_lowercase();
    const OUT: &[&str] = &[
        "stop",
        "unsubscribe",
        "stop all",
        "opt out",
        "opt-out",
        "arret",
        "arrêt",
        "stop pub",
        "baja",
        "darme de baja",
        "parar",
        "cancelar suscripción",
        "annulla iscrizione",
        "disiscriviti",
        "sair",
        "cancelar",
        "abmelden",
        "abbestellen",
    ];
    const IN: &[&str] = &["start", "unstop", "opt in", "opt-in", "subscribe"];
    if OUT.contains(&word.as_str()) {
        Some(ConsentStatus::OptedOut)
    } else if IN.contains(&word.as_str()) {
        Some(ConsentStatus::OptedIn)
    } else {
        None
    }
}

/// Why a proactive message may not go to a customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the customer opted out of messages from the business ({from}, recorded by {by})")]
    OptedOut { by: String, from: String },
    #[error("no opt-in is recorded for this customer: record it first")]
    NoOptIn,
}

/// Whether the business may start a conversation with the customer.
pub fn may_contact(consent: Option<&Consent>) -> Result<(), Refused> {
    match consent {
        Some(c) if c.status == ConsentStatus::OptedIn => Ok(()),
        Some(c) => Err(Refused::OptedOut {
            by: c.by.clone(),
            from: c.source.clone(),
        }),
        None => Err(Refused::NoOptIn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyword_alone_records_consent_and_a_sentence_does_not() {
        assert_eq!(keyword(" STOP "), Some(ConsentStatus::OptedOut));
        assert_eq!(keyword("Stop."), Some(ConsentStatus::OptedOut));
        assert_eq!(keyword("arrêt"), Some(ConsentStatus::OptedOut));
        assert_eq!(keyword("Baja"), Some(ConsentStatus::OptedOut));
        assert_eq!(keyword("start"), Some(ConsentStatus::OptedIn));
        assert_eq!(keyword("please stop the delivery"), None);
        assert_eq!(keyword("hello"), None);
    }

    #[test]
    fn only_an_opt_in_lets_the_business_write_first() {
        let consent = |status| Consent {
            status,
            at_ms: 1,
            by: "ana".into(),
            source: "signed form".into(),
        };
        assert_eq!(may_contact(Some(&consent(ConsentStatus::OptedIn))), Ok(()));
        assert!(matches!(
            may_contact(Some(&consent(ConsentStatus::OptedOut))),
            Err(Refused::OptedOut { .. })
        ));
        assert_eq!(may_contact(None), Err(Refused::NoOptIn));
    }
}
