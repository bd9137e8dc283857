//! Properties of business calendars over random weekly hours, holidays, zones and instants.

use helpdesk::domain::calendar::{BusinessCalendar, CalendarSpec, WEEKDAYS};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Zones with one-hour and half-hour daylight-saving changes, changes at midnight, and none at all.
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
];

const SLOT_MINUTES: u32 = 15;
const SLOTS_PER_WEEK: u32 = 7 * 24 * 60 / SLOT_MINUTES;

/// Weekly hours built from sorted cut points on the weekly cycle, paired into intervals (at most
/// 24 hours long) and rotated so that some run past midnight and from Sunday into Monday.
fn hours() -> impl Strategy<Value = BTreeMap<String, Vec<String>>> {
    (prop::collection::btree_set(0..SLOTS_PER_WEEK, 1..14), 0..SLOTS_PER_WEEK).prop_map(|(cuts, rotation)| {
        let cuts: Vec<u32> = cuts.into_iter().map(|slot| slot * SLOT_MINUTES).collect();
        let week = SLOTS_PER_WEEK * SLOT_MINUTES;
        let mut hours: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in cuts.chunks_exact(2) {
            let start = pair[0];
            let end = pair[1].min(start + 24 * 60);
            let start = (start + rotation * SLOT_MINUTES) % week;
            let end_after_start = end - pair[0];
            let (day, start_of_day) = (start / (24 * 60), start % (24 * 60));
            let end_of_day = start_of_day + end_after_start;
            let end_text = if end_of_day == 24 * 60 {
                "24:00".to_owned()
            } else {
                clock(end_of_day % (24 * 60))
            };
            hours
                .entry(WEEKDAYS[day as usize].to_owned())
                .or_default()
                .push(format!("{}-{}", clock(start_of_day), end_text));
        }
        hours
    })
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn calendars() -> impl Strategy<Value = BusinessCalendar> {
    (
        prop::sample::select(ZONES),
        hours(),
        prop::collection::vec(0..365i32, 0..8),
    )
        .prop_map(|(zone, hours, holidays)| {
            let holidays = holidays
                .into_iter()
                .map(|day| (date(2026, 1, 1) + SignedDuration::from_hours(24 * i64::from(day))).to_string())
                .collect();
            let spec = CalendarSpec {
                time_zone: zone.to_owned(),
                hours,
                holidays,
            };
            BusinessCalendar::from_spec(&spec).unwrap_or_else(|error| panic!("{spec:?}: {error}"))
        })
}

/// Instants within 2026 and a few weeks around it, with seconds.
fn instants() -> impl Strategy<Value = Timestamp> {
    let start = date(2025, 12, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second();
    let end = date(2027, 2, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second();
    (start..end).prop_map(|second| Timestamp::from_second(second).unwrap())
}

fn ordered_triple() -> impl Strategy<Value = (Timestamp, Timestamp, Timestamp)> {
    (instants(), instants(), instants()).prop_map(|(a, b, c)| {
        let mut triple = [a, b, c];
        triple.sort();
        (triple[0], triple[1], triple[2])
    })
}

/// A start and up to four paused spans around it: before it, across it, up to three weeks after it;
/// minutes to days long, some empty (ending before they start), some overlapping, all with seconds.
fn start_and_pauses() -> impl Strategy<Value = (Timestamp, Vec<(Timestamp, Timestamp)>)> {
    const DAY: i64 = 24 * 60 * 60;
    let span = (-3 * DAY..21 * DAY, prop_oneof![-60 * 60..4 * 60 * 60i64, 0..8 * DAY]);
    (instants(), prop::collection::vec(span, 0..5)).prop_map(|(start, spans)| {
        let pauses = spans
            .into_iter()
            .map(|(offset, length)| {
                let from = start + SignedDuration::from_secs(offset);
                (from, from + SignedDuration::from_secs(length))
            })
            .collect();
        (start, pauses)
    })
}

/// Business minutes to add: from none to about two months of office hours.
fn minutes() -> impl Strategy<Value = i64> {
    0..4000i64
}

fn wall_minutes(from: Timestamp, to: Timestamp) -> i64 {
    to.as_second().div_euclid(60) - from.as_second().div_euclid(60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn business_minutes_add_up_over_consecutive_spans(calendar in calendars(), (a, b, c) in ordered_triple()) {
        // Arrange / Act
        let whole = calendar.business_minutes_between(a, c);
        let parts = calendar.business_minutes_between(a, b) + calendar.business_minutes_between(b, c);

        // Assert
        prop_assert_eq!(whole, parts);
    }

    #[test]
    fn adding_the_minutes_between_two_instants_lands_by_the_second_and_counts_exactly(
        calendar in calendars(),
        (a, b, _) in ordered_triple(),
    ) {
        // Arrange
        let minutes = calendar.business_minutes_between(a, b);

        // Act
        let due = calendar.add_business_minutes(a, minutes);

        // Assert
        let due = due.expect("enough opening time exists before b");
        prop_assert!(due <= b, "{due} is after {b}");
        prop_assert_eq!(calendar.business_minutes_between(a, due), minutes);
    }

    #[test]
    fn the_next_opening_is_open_and_nothing_before_it_is(calendar in calendars(), t in instants()) {
        // Arrange / Act
        let next = calendar.next_open(t);

        // Assert
        match next {
            Some(next) => {
                prop_assert!(next >= t);
                prop_assert!(calendar.is_open(next));
                let gap = next.duration_since(t);
                for step in 0..8 {
                    let sample = t + gap / 8 * step;
                    prop_assert!(!calendar.is_open(sample) || sample == t, "open at {sample} before {next}");
                }
                if next > t {
                    prop_assert!(!calendar.is_open(t));
                    prop_assert!(!calendar.is_open(next - SignedDuration::from_secs(1)));
                }
            }
            None => {
                let year_later = t + SignedDuration::from_hours(24 * 366);
                prop_assert_eq!(calendar.business_minutes_between(t, year_later), 0);
            }
        }
    }

    #[test]
    fn business_minutes_never_exceed_wall_clock_minutes(calendar in calendars(), (a, b, _) in ordered_triple()) {
        // Arrange / Act
        let minutes = calendar.business_minutes_between(a, b);

        // Assert
        prop_assert!(minutes >= 0);
        prop_assert!(minutes <= wall_minutes(a, b));
    }

    #[test]
    fn an_instant_is_open_exactly_when_its_minute_counts(calendar in calendars(), t in instants()) {
        // Arrange / Act
        let counted = calendar.business_minutes_between(t, t + SignedDuration::from_mins(1));

        // Assert
        prop_assert_eq!(calendar.is_open(t), counted == 1);
    }

    #[test]
    fn pauses_only_ever_remove_business_minutes(
        calendar in calendars(),
        (a, b, c) in ordered_triple(),
        (p, q) in (instants(), instants()),
    ) {
        // Arrange
        let pauses = [(b, c), (p.min(q), p.max(q))];

        // Act
        let paused = calendar.business_minutes_between_with_pauses(a, c, &pauses);

        // Assert
        let unpaused = calendar.business_minutes_between(a, c);
        prop_assert!(paused <= calendar.business_minutes_between(a, b));
        prop_assert!(paused >= unpaused - calendar.business_minutes_between(b, c) - calendar.business_minutes_between(p.min(q), p.max(q)));
        prop_assert_eq!(calendar.business_minutes_between_with_pauses(a, c, &[(a, c)]), 0);
    }

    #[test]
    fn counting_back_from_a_paused_deadline_gives_its_minutes_and_one_minute_earlier_falls_short(
        calendar in calendars(),
        (start, pauses) in start_and_pauses(),
        n in minutes(),
    ) {
        // Arrange / Act
        let due = calendar.add_business_minutes_with_pauses(start, n, &pauses);

        // Assert
        match due {
            Some(due) => {
                prop_assert!(due >= start, "{due} is before {start}");
                prop_assert_eq!(calendar.business_minutes_between_with_pauses(start, due, &pauses), n);
                if n > 0 {
                    let a_minute_earlier = due - SignedDuration::from_mins(1);
                    prop_assert_eq!(
                        calendar.business_minutes_between_with_pauses(start, a_minute_earlier, &pauses),
                        n - 1
                    );
                }
            }
            None => {
                // The generated pauses end within a month: only a calendar that never opens has no deadline.
                let year_later = start + SignedDuration::from_hours(24 * 366);
                prop_assert_eq!(calendar.business_minutes_between(start, year_later), 0);
            }
        }
    }

    #[test]
    fn adding_the_unpaused_minutes_up_to_an_instant_is_due_by_that_instant(
        calendar in calendars(),
        (start, pauses) in start_and_pauses(),
        t in instants(),
    ) {
        // Arrange: the bounds of the pauses, where an off-by-one would show, and a random instant.
        let targets = pauses.iter().flat_map(|&(a, b)| [a, b]).chain([t]).filter(|&target| target >= start);

        for target in targets {
            let minutes = calendar.business_minutes_between_with_pauses(start, target, &pauses);

            // Act
            let due = calendar.add_business_minutes_with_pauses(start, minutes, &pauses);

            // Assert
            let due = due.expect("enough unpaused opening time exists before the target");
            prop_assert!(due <= target, "{minutes} minutes due at {due}, after {target}");
            prop_assert_eq!(calendar.business_minutes_between_with_pauses(start, due, &pauses), minutes);
        }
    }

    #[test]
    fn more_paused_minutes_are_never_due_earlier(
        calendar in calendars(),
        (start, pauses) in start_and_pauses(),
        (m, n) in (minutes(), minutes()),
    ) {
        // Arrange
        let (fewer, more) = (m.min(n), m.max(n));

        // Act
        let sooner = calendar.add_business_minutes_with_pauses(start, fewer, &pauses);
        let later = calendar.add_business_minutes_with_pauses(start, more, &pauses);

        // Assert
        if let Some(later) = later {
            let sooner = sooner.expect("fewer minutes are due whenever more are");
            prop_assert!(sooner <= later, "{fewer} minutes due at {sooner}, {more} at {later}");
        }
    }

    #[test]
    fn without_pauses_or_with_only_empty_or_past_ones_the_deadline_is_the_unpaused_one(
        calendar in calendars(),
        (start, pauses) in start_and_pauses(),
        n in minutes(),
    ) {
        // Arrange
        let mut ineffective: Vec<(Timestamp, Timestamp)> = pauses.iter().map(|&(a, b)| (a.max(b), a.min(b))).collect();
        ineffective.push((start - SignedDuration::from_hours(48), start - SignedDuration::from_mins(1)));

        // Act
        let unpaused = calendar.add_business_minutes(start, n);

        // Assert
        prop_assert_eq!(calendar.add_business_minutes_with_pauses(start, n, &[]), unpaused);
        prop_assert_eq!(calendar.add_business_minutes_with_pauses(start, n, &ineffective), unpaused);
    }

    #[test]
    fn pauses_never_bring_a_deadline_forward(
        calendar in calendars(),
        (start, pauses) in start_and_pauses(),
        n in minutes(),
    ) {
        // Arrange / Act
        let paused = calendar.add_business_minutes_with_pauses(start, n, &pauses);
        let unpaused = calendar.add_business_minutes(start, n);

        // Assert
        if let Some(paused) = paused {
            let unpaused = unpaused.expect("a deadline without the pauses exists whenever one with them does");
            prop_assert!(unpaused <= paused, "{unpaused} without pauses, {paused} with them");
        }
    }
}

#[test]
fn an_always_open_calendar_counts_every_wall_clock_minute() {
    // Arrange
    let calendar = BusinessCalendar::always_open();
    let from: Timestamp = "2026-03-29T00:00:30Z".parse().unwrap();
    let to: Timestamp = "2026-11-02T12:34:56Z".parse().unwrap();

    // Act
    let minutes = calendar.business_minutes_between(from, to);

    // Assert
    assert_eq!(minutes, wall_minutes(from, to));
}
