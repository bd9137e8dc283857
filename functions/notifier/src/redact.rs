//! Keeps customer data out of notifications: digit runs that may be phone
//! numbers are masked and the message excerpt is kept short. The tickets side
//! already masks and shortens the excerpt; this is the notifier's own guard.

/// What a masked digit run becomes.
pub const MASK: &str = "•••";

/// The longest excerpt a notification quotes, in characters.
pub const EXCERPT_MAX_CHARS: usize = 120;

/// The longest reason a notification shows, in characters.
pub const REASON_MAX_CHARS: usize = 300;

/// The longest label (priority, trigger, language) a notification shows, in characters.
pub const LABEL_MAX_CHARS: usize = 40;

/// Digits in a run from which the run is masked.
const MASKED_RUN_DIGITS: usize = 6;

/// Replaces every run of six or more digits with [`MASK`]. Digits joined by a
/// single space, dot, dash, slash or parenthesis count as one run, since phone
/// numbers are written that way (`+33 6 12 34 56 78`); a leading `+` goes
/// with its run. Shorter runs (`#12345`, `tier 2`) stay as they are.
pub fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit_at = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let opener = matches!(chars[i], '+' | '(') && digit_at(i + 1);
        if !(chars[i].is_ascii_digit() || opener) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = if opener { i + 1 } else { i };
        let mut digits = 0;
        let end = loop {
            while digit_at(j) {
                digits += 1;
                j += 1;
            }
            // At most two joiners in a row (`) ` in `(555) 123`), then a digit again.
            let mut k = j;
            while k < chars.len() && k - j < 2 && is_joiner(chars[k]) {
                k += 1;
            }
            if k > j && digit_at(k) {
                j = k;
            } else {
                break j;
            }
        };
        if digits >= MASKED_RUN_DIGITS {
            out.push_str(MASK);
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

fn is_joiner(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '/' | '(' | ')')
}

/// Collapses every run of whitespace (newlines included) into one space and
/// trims the ends, so a quote stays on one line.
pub fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, the last one `…` when something was cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Free text as a notification may show it: on one line, digit runs masked,
/// at most `max` characters. Masking comes first so that a cut cannot leave
/// the visible part of a long number below the masking threshold.
pub fn safe_text(text: &str, max: usize) -> String {
    truncate_chars(&mask_digit_runs(&single_line(text)), max)
}

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
