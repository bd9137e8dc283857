//! Keeps customer data out of notifications: digit runs that may be phone
//! numbers are masked and the message excerpt is kept short. The tickets side
//! already masks and shortens the excerpt; this is the notifier's own guard.

#[cfg(test)]
use helpdesk::domain::privacy::mask_digit_runs;
pub use helpdesk::domain::privacy::safe_text;

/// The longest excerpt a notification quotes, in characters.
pub const EXCERPT_MAX_CHARS: usize = 120;

/// The longest reason a notification shows, in characters.
pub const REASON_MAX_CHARS: usize = 300;

/// The longest label (priority, trigger, language) a notification shows, in characters.
pub const LABEL_MAX_CHARS: usize = 40;

/// The customer's message excerpt as a notification quotes it; `None` when
/// there is nothing left to quote.
pub fn safe_excerpt(excerpt: Option<&str>) -> Option<String> {
    excerpt
        .map(|e| safe_text(e, EXCERPT_MAX_CHARS))
        .filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_six_digits_or_more_is_masked_and_a_shorter_one_is_kept() {
        assert_eq!(mask_digit_runs("call me on 5551234567 please"), "call me on ••• please");
        assert_eq!(mask_digit_runs("order #12345, tier 2"), "order #12345, tier 2");
        assert_eq!(mask_digit_runs("123456"), "•••");
    }

    #[test]
    fn a_phone_number_written_with_spaces_dots_or_dashes_is_masked_whole() {
        assert_eq!(mask_digit_runs("my number is +33 6 12 34 56 78."), "my number is •••.");
        assert_eq!(mask_digit_runs("(555) 123-4567 any time"), "••• any time");
        assert_eq!(mask_digit_runs("06.12.34.56.78"), "•••");
    }

    #[test]
    fn words_between_short_numbers_keep_them_apart() {
        assert_eq!(
            mask_digit_runs("2 boxes and 3 bags, 45 kg"),
            "2 boxes and 3 bags, 45 kg"
        );
    }

    #[test]
    fn a_long_excerpt_is_cut_to_120_characters_ending_with_an_ellipsis() {
        let long = "é".repeat(300);

        let excerpt = safe_excerpt(Some(&long)).unwrap();

        assert_eq!(excerpt.chars().count(), EXCERPT_MAX_CHARS);
        assert!(excerpt.ends_with('…'));
    }

    #[test]
    fn a_number_across_the_cut_is_masked_before_the_excerpt_is_cut() {
        let text = format!("{}5551234567", "a ".repeat(58));

        let excerpt = safe_excerpt(Some(&text)).unwrap();

        assert!(!excerpt.contains("555"), "{excerpt}");
    }

    #[test]
    fn an_excerpt_is_put_on_one_line_and_an_empty_one_is_dropped() {
        assert_eq!(safe_excerpt(Some("  hello\n\nthere  ")).as_deref(), Some("hello there"));
        assert_eq!(safe_excerpt(Some(" \n ")), None);
        assert_eq!(safe_excerpt(None), None);
    }
}
