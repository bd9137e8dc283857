//! Business calendars: when the desk is open, in the desk's own time zone. The bot uses them to
//! tell customers when a human will answer; SLA deadlines count business minutes with them.
//!
//! Conventions shared by every operation:
//! - Opening intervals are local wall-clock times. Across a daylight-saving change an interval keeps
//!   its wall-clock bounds, so its length in real minutes changes that night.
//! - A wall-clock bound that does not exist (it falls in the hour skipped when clocks spring forward)
//!   resolves to the next valid instant, the moment of the jump: an interval starting at 02:00 or
//!   02:30 on the spring-forward night in Paris starts at 03:00 CEST. For a bound on the jump itself
//!   (02:00) this is what jiff's `compatible` disambiguation gives; for a bound inside the gap
//!   `compatible` would shift it by the gap's length, which can push the end of one interval past the
//!   start of the next, so the jump is used instead.
//! - A wall-clock bound that occurs twice (the hour repeated when clocks fall back) resolves to its
//!   first occurrence, as jiff's `compatible` disambiguation does. An interval "00:00-24:00" then
//!   lasts 23 hours on the spring-forward day and 25 hours on the fall-back day.
//! - A holiday closes the intervals that start on that date. An interval running past midnight that
//!   started the evening before a holiday still runs until its end.
//! - Time is counted in whole minutes: every instant given is first truncated to its minute, and
//!   computed instants fall on whole minutes (an instant handed back unchanged keeps its seconds).

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const MINUTES_PER_DAY: i32 = 24 * 60;
const MINUTES_PER_WEEK: i32 = 7 * MINUTES_PER_DAY;
const NANOS_PER_MINUTE: i128 = 60_000_000_000;

/// A search for the next opening gives up after this many consecutive days without one.
const MAX_DAYS_WITHOUT_OPENING: u32 = 400;

/// The weekday keys of [`CalendarSpec::hours`], Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A business calendar as written in the desk configuration (YAML or JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// IANA time zone name, e.g. "Europe/Paris". Hours and holidays are read in this zone.
    pub time_zone: String,
    /// Opening intervals per weekday: keys "monday".."sunday" (lowercase), values like
    /// `["09:00-12:30", "13:30-18:00"]`. An interval whose end is at or before its start runs past
    /// midnight into the next day ("22:00-02:00"); "00:00-24:00" is the whole day. A missing day is
    /// closed. Intervals may touch but not overlap, also across midnight.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed dates in the calendar's time zone, written "2026-12-25".
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Why a [`CalendarSpec`] was refused. Each variant names the bad field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("time_zone {0:?} is not a known IANA time zone")]
    UnknownTimeZone(String),
    #[error("hours: {0:?} is not a weekday (expected lowercase monday..sunday)")]
    UnknownWeekday(String),
    #[error("hours.{day}: interval {interval:?} is invalid: {why}")]
    BadInterval { day: String, interval: String, why: String },
    #[error("holidays: {0:?} is not a valid date like 2026-12-25")]
    BadHoliday(String),
    #[error("hours.{day}: interval {a:?} overlaps {b:?} of {other_day}")]
    Overlap {
        day: String,
        a: String,
        other_day: String,
        b: String,
    },
}

/// Opening hours of one weekday, in minutes after that day's local midnight.
/// Invariant: `0 <= start < 1440` and `start < end <= start + 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Interval {
    start: i32,
    end: i32,
}

/// A validated business calendar. Cheap to query; build it once from the configuration.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    /// Per weekday, Monday first, sorted by start and without overlaps (also across days).
    week: [Vec<Interval>; 7],
    holidays: BTreeSet<Date>,
}

impl BusinessCalendar {
    /// Validates a spec: a known time zone, lowercase weekday keys, intervals "HH:MM-HH:MM" (24:00
    /// only as an end) that do not overlap on the weekly cycle, holidays "YYYY-MM-DD".
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, CalendarError> {
        let time_zone =
            TimeZone::get(&spec.time_zone).map_err(|_| CalendarError::UnknownTimeZone(spec.time_zone.clone()))?;

        let mut week: [Vec<Interval>; 7] = Default::default();
        let mut on_week = Vec::new();
        for (day, texts) in &spec.hours {
            let index = WEEKDAYS
                .iter()
                .position(|name| name == day)
                .ok_or_else(|| CalendarError::UnknownWeekday(day.clone()))?;
            for text in texts {
                let interval = parse_interval(text).map_err(|why| CalendarError::BadInterval {
                    day: day.clone(),
                    interval: text.clone(),
                    why,
                })?;
                week[index].push(interval);
                let offset = index as i32 * MINUTES_PER_DAY;
                on_week.push(WeeklySpan {
                    start: offset + interval.start,
                    end: offset + interval.end,
                    day,
                    text,
                });
            }
        }
        check_overlaps(on_week)?;
        for day in &mut week {
            day.sort();
        }

        let holidays = spec
            .holidays
            .iter()
            .map(|text| parse_date(text).ok_or_else(|| CalendarError::BadHoliday(text.clone())))
            .collect::<Result<_, _>>()?;

        Ok(BusinessCalendar {
            time_zone,
            week,
            holidays,
        })
    }

    /// A calendar open around the clock, every day, in UTC: business minutes are wall-clock minutes.
    pub fn always_open() -> Self {
        let whole_day = Interval {
            start: 0,
            end: MINUTES_PER_DAY,
        };
        BusinessCalendar {
            time_zone: TimeZone::UTC,
            week: std::array::from_fn(|_| vec![whole_day]),
            holidays: BTreeSet::new(),
        }
    }

    /// The zone in which hours and holidays are read.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// Whether the minute containing `at` lies in an opening interval.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let minute = minute_of(at);
        self.first_opening_ending_after(minute)
            .is_some_and(|(start, _)| start <= minute)
    }

    /// `at` itself when open, else the next instant the calendar opens. `None` when it does not open
    /// within about 400 days (a calendar without hours never opens).
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        let minute = minute_of(at);
        let (start, _) = self.first_opening_ending_after(minute)?;
        if start <= minute { Some(at) } else { instant(start) }
    }

    /// Minutes of opening time in `[from, to)`, both truncated to the minute; 0 when `to <= from`.
    /// Additive: `between(a, c) == between(a, b) + between(b, c)` for `a <= b <= c`.
    pub fn business_minutes_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        self.minutes_between(minute_of(from), minute_of(to))
    }

    /// The earliest instant by which `minutes` business minutes have elapsed since `start`: counting
    /// begins at `start` when open, else at the next opening, and the result is the end of the last
    /// counted minute (a closing time when that minute is the last of an interval). `start` itself
    /// for 0 minutes. `None` for negative minutes, or when the calendar stops opening (no opening
    /// within about 400 days) before enough minutes have elapsed.
    pub fn add_business_minutes(&self, start: Timestamp, minutes: i64) -> Option<Timestamp> {
        if minutes < 0 {
            return None;
        }
        if minutes == 0 {
            return Some(start);
        }
        let from = minute_of(start);
        let mut remaining = minutes;
        for (open, close) in self.openings(from, Bound::DaysWithoutOpening(MAX_DAYS_WITHOUT_OPENING)) {
            let counted_from = open.max(from);
            let available = close - counted_from;
            if remaining <= available {
                return instant(counted_from + remaining);
            }
            remaining -= available;
        }
        None
    }

    /// Like [`Self::business_minutes_between`] but without the minutes inside the paused spans
    /// `[start, end)` (e.g. while waiting on the customer). Spans may overlap each other, the calendar's
    /// closed times and the bounds of `[from, to)`; a span whose end is at or before its start is empty.
    pub fn business_minutes_between_with_pauses(
        &self,
        from: Timestamp,
        to: Timestamp,
        pauses: &[(Timestamp, Timestamp)],
    ) -> i64 {
        let (from, to) = (minute_of(from), minute_of(to));
        if to <= from {
            return 0;
        }
        let paused: i64 = merge_pauses(pauses, from, to)
            .iter()
            .map(|&(start, end)| self.minutes_between(start, end))
            .sum();
        self.minutes_between(from, to) - paused
    }

    /// Like [`Self::add_business_minutes`] but without counting the minutes inside the paused spans
    /// `[start, end)`: the earliest instant by which `minutes` business minutes outside every span
    /// have elapsed since `start`. Spans may overlap each other, the calendar's closed times and
    /// `start`; a span whose end is at or before its start is empty. The result is the end of the last
    /// counted minute, so a pause that begins right then does not delay it. `start` itself for 0
    /// minutes. `None` for negative minutes, or when the calendar stops opening (no opening within
    /// about 400 days, counted again from the end of each pause) before enough minutes have elapsed.
    /// The inverse of [`Self::business_minutes_between_with_pauses`]: counting from `start` to the
    /// result with the same spans gives `minutes`.
    pub fn add_business_minutes_with_pauses(
        &self,
        start: Timestamp,
        minutes: i64,
        pauses: &[(Timestamp, Timestamp)],
    ) -> Option<Timestamp> {
        if minutes < 0 {
            return None;
        }
        if minutes == 0 {
            return Some(start);
        }
        let from = minute_of(start);
        let bound = Bound::DaysWithoutOpening(MAX_DAYS_WITHOUT_OPENING);
        let mut pauses = merge_pauses(pauses, from, i64::MAX).into_iter().peekable();
        let mut openings = self.openings(from, bound);
        // Nothing before `resume` counts: the start, then the end of a pause the walk jumped over.
        let mut resume = from;
        let mut remaining = minutes;
        loop {
            let (open, close) = openings.next()?;
            // Counts the opening's unpaused stretches, from `at` to the next pause or the close.
            let mut at = open.max(resume);
            let mut paused_past_close = None;
            while let Some(&(pause_start, pause_end)) = pauses.peek() {
                if pause_start >= close {
                    break;
                }
                if pause_start > at {
                    let available = pause_start - at;
                    if remaining <= available {
                        return instant(at + remaining);
                    }
                    remaining -= available;
                }
                if pause_end > close {
                    paused_past_close = Some(pause_end);
                    break;
                }
                at = at.max(pause_end);
                pauses.next();
            }
            if let Some(pause_end) = paused_past_close {
                // The walk resumes where the pause ends, skipping the openings inside it at once
                // (a pause can last for weeks).
                pauses.next();
                resume = pause_end;
                openings = self.openings(pause_end, bound);
                continue;
            }
            let available = close - at;
            if remaining <= available {
                return instant(at + remaining);
            }
            remaining -= available;
        }
    }

    fn has_hours(&self) -> bool {
        self.week.iter().any(|day| !day.is_empty())
    }

    fn minutes_between(&self, from: i64, to: i64) -> i64 {
        if to <= from || !self.has_hours() {
            return 0;
        }
        // Intervals that start after the local date of `to` cannot start before `to`; a day of
        // slack covers offsets changing around midnight.
        let Some(last_date) = instant(to)
            .map(|to| self.time_zone.to_datetime(to).date())
            .and_then(|date| date.tomorrow().ok())
        else {
            return 0;
        };
        self.openings(from, Bound::LastDate(last_date))
            .take_while(|&(open, _)| open < to)
            .map(|(open, close)| close.min(to) - open.max(from))
            .sum()
    }

    fn first_opening_ending_after(&self, minute: i64) -> Option<(i64, i64)> {
        if !self.has_hours() {
            return None;
        }
        self.openings(minute, Bound::DaysWithoutOpening(MAX_DAYS_WITHOUT_OPENING))
            .next()
    }

    /// Opening intervals as epoch minutes `[open, close)` ending after `after`, in chronological order.
    fn openings(&self, after: i64, bound: Bound) -> Openings<'_> {
        // An interval can run into the next day, so the one containing `after` may have started the
        // day before its local date; one more day covers offsets changing around midnight.
        let first_date = instant(after)
            .map(|at| self.time_zone.to_datetime(at).date())
            .map(|date| date.yesterday().and_then(|d| d.yesterday()).unwrap_or(date));
        Openings {
            calendar: self,
            date: first_date,
            bound,
            days_without_opening: 0,
            after,
            pending: Vec::new(),
        }
    }

    /// The epoch minute at which the local wall clock first reads `minute` minutes after `date`'s
    /// midnight (`minute < 2 * 1440`): the first occurrence in a fold, the jump in a gap.
    fn resolve(&self, date: Date, minute: i32) -> Option<i64> {
        let date = if minute >= MINUTES_PER_DAY {
            date.tomorrow().ok()?
        } else {
            date
        };
        let minute = minute % MINUTES_PER_DAY;
        let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?;
        let ambiguous = self.time_zone.to_ambiguous_timestamp(date.to_datetime(time));
        let resolved = match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => {
                // `earlier` reads the skipped time with the offset after the gap, which lands just
                // before the jump; the next transition is the jump itself.
                let before_jump = ambiguous.earlier().ok()?;
                self.time_zone.following(before_jump).next()?.timestamp()
            }
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => ambiguous.earlier().ok()?,
        };
        Some(minute_of(resolved))
    }
}

/// When the walk through opening intervals stops.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// After this many consecutive days without an opening.
    DaysWithoutOpening(u32),
    /// After this local date.
    LastDate(Date),
}

/// Walks the calendar day by day, yielding each day's intervals as epoch minutes. Resolved intervals
/// come out sorted and disjoint: the weekly intervals do not overlap and resolution is monotonic.
struct Openings<'a> {
    calendar: &'a BusinessCalendar,
    date: Option<Date>,
    bound: Bound,
    days_without_opening: u32,
    after: i64,
    /// The current day's remaining intervals, last first.
    pending: Vec<(i64, i64)>,
}

impl Iterator for Openings<'_> {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        loop {
            if let Some(opening) = self.pending.pop() {
                return Some(opening);
            }
            let date = self.date?;
            match self.bound {
                Bound::DaysWithoutOpening(limit) if self.days_without_opening >= limit => return None,
                Bound::LastDate(last) if date > last => return None,
                _ => {}
            }
            self.date = date.tomorrow().ok();
            if !self.calendar.holidays.contains(&date) {
                let weekday = date.weekday().to_monday_zero_offset() as usize;
                for interval in self.calendar.week[weekday].iter().rev() {
                    let (Some(open), Some(close)) = (
                        self.calendar.resolve(date, interval.start),
                        self.calendar.resolve(date, interval.end),
                    ) else {
                        // Beyond the range of representable instants: nothing further to walk.
                        self.date = None;
                        continue;
                    };
                    // An interval entirely inside a skipped hour is empty.
                    if close > open && close > self.after {
                        self.pending.push((open, close));
                    }
                }
            }
            if self.pending.is_empty() {
                self.days_without_opening += 1;
            } else {
                self.days_without_opening = 0;
            }
        }
    }
}

/// One weekly interval in minutes after Monday 00:00, with where it was written, for overlap reports.
struct WeeklySpan<'a> {
    start: i32,
    end: i32,
    day: &'a str,
    text: &'a str,
}

fn check_overlaps(mut spans: Vec<WeeklySpan<'_>>) -> Result<(), CalendarError> {
    // The week is a cycle: Sunday night's interval can run into Monday, so it is also placed one
    // week earlier to meet Monday's intervals.
    let wrapped: Vec<WeeklySpan<'_>> = spans
        .iter()
        .filter(|span| span.end > MINUTES_PER_WEEK)
        .map(|span| WeeklySpan {
            start: span.start - MINUTES_PER_WEEK,
            end: span.end - MINUTES_PER_WEEK,
            day: span.day,
            text: span.text,
        })
        .collect();
    spans.extend(wrapped);
    spans.sort_by_key(|span| (span.start, span.end));
    // Sorted by start, any overlap shows up between neighbours.
    match spans.windows(2).find(|pair| pair[1].start < pair[0].end) {
        Some(pair) => Err(CalendarError::Overlap {
            day: pair[0].day.to_owned(),
            a: pair[0].text.to_owned(),
            other_day: pair[1].day.to_owned(),
            b: pair[1].text.to_owned(),
        }),
        None => Ok(()),
    }
}

fn parse_interval(text: &str) -> Result<Interval, String> {
    let (start, end) = text.split_once('-').ok_or_else(|| "expected HH:MM-HH:MM".to_owned())?;
    let start = parse_clock(start.trim())?;
    if start == MINUTES_PER_DAY {
        return Err("24:00 can only end an interval".to_owned());
    }
    let end = parse_clock(end.trim())?;
    // An end at or before the start is on the next day.
    let end = if end <= start { end + MINUTES_PER_DAY } else { end };
    Ok(Interval { start, end })
}

/// Minutes after midnight of "HH:MM", 00:00 to 24:00.
fn parse_clock(text: &str) -> Result<i32, String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 5 && bytes[2] == b':' && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        return Err(format!("{text:?} is not a time HH:MM"));
    }
    let digit = |i: usize| i32::from(bytes[i] - b'0');
    let (hour, minute) = (digit(0) * 10 + digit(1), digit(3) * 10 + digit(4));
    if hour > 24 {
        return Err(format!("hour {hour} in {text:?} is out of range"));
    }
    if minute > 59 {
        return Err(format!("minute {minute} in {text:?} is out of range"));
    }
    if hour == 24 && minute != 0 {
        return Err(format!("{text:?} is past 24:00"));
    }
    Ok(hour * 60 + minute)
}

/// A date written exactly "YYYY-MM-DD".
fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    text.parse().ok()
}

/// Paused spans as epoch minutes clipped to `[from, to)`, without the empty ones, sorted and merged
/// (also when they only touch) so that a minute paused twice counts once.
fn merge_pauses(pauses: &[(Timestamp, Timestamp)], from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut clipped: Vec<(i64, i64)> = pauses
        .iter()
        .map(|&(start, end)| (minute_of(start).max(from), minute_of(end).min(to)))
        .filter(|(start, end)| start < end)
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(clipped.len());
    for (start, end) in clipped {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The epoch minute containing `at`.
fn minute_of(at: Timestamp) -> i64 {
    // The range of timestamps in minutes fits an i64 by far.
    at.as_nanosecond().div_euclid(NANOS_PER_MINUTE) as i64
}

fn instant(minute: i64) -> Option<Timestamp> {
    Timestamp::from_second(minute.checked_mul(60)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::DateTime;

    fn spec(time_zone: &str, hours: &[(&str, &[&str])], holidays: &[&str]) -> CalendarSpec {
        CalendarSpec {
            time_zone: time_zone.to_owned(),
            hours: hours
                .iter()
                .map(|(day, intervals)| (day.to_string(), intervals.iter().map(|s| s.to_string()).collect()))
                .collect(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn calendar(time_zone: &str, hours: &[(&str, &[&str])], holidays: &[&str]) -> BusinessCalendar {
        BusinessCalendar::from_spec(&spec(time_zone, hours, holidays)).expect("valid spec")
    }

    const OFFICE: &[&str] = &["09:00-12:30", "13:30-18:00"];

    fn paris_office(holidays: &[&str]) -> BusinessCalendar {
        calendar(
            "Europe/Paris",
            &[
                ("monday", OFFICE),
                ("tuesday", OFFICE),
                ("wednesday", OFFICE),
                ("thursday", OFFICE),
                ("friday", OFFICE),
            ],
            holidays,
        )
    }

    fn every_day(time_zone: &str, intervals: &[&str]) -> BusinessCalendar {
        let hours: Vec<(&str, &[&str])> = WEEKDAYS.iter().map(|day| (*day, intervals)).collect();
        calendar(time_zone, &hours, &[])
    }

    /// The instant the calendar's wall clock reads `local` ("2026-03-27T19:00").
    fn local(calendar: &BusinessCalendar, local: &str) -> Timestamp {
        let datetime: DateTime = local.parse().expect("civil datetime");
        datetime
            .to_zoned(calendar.time_zone().clone())
            .expect("in range")
            .timestamp()
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn error_of(spec: CalendarSpec) -> CalendarError {
        BusinessCalendar::from_spec(&spec).expect_err("invalid spec")
    }

    #[test]
    fn a_friday_evening_message_is_answered_on_monday_morning() {
        // Arrange
        let desk = paris_office(&[]);
        let friday_evening = local(&desk, "2026-03-27T19:00");

        // Act
        let next = desk.next_open(friday_evening);

        // Assert
        assert!(!desk.is_open(friday_evening));
        assert_eq!(next, Some(local(&desk, "2026-03-30T09:00")));
    }

    #[test]
    fn the_lunch_break_is_closed_until_the_afternoon_opening() {
        // Arrange
        let desk = paris_office(&[]);
        let lunch = local(&desk, "2026-03-31T12:45");

        // Act
        let next = desk.next_open(lunch);

        // Assert
        assert!(!desk.is_open(lunch));
        assert_eq!(next, Some(local(&desk, "2026-03-31T13:30")));
    }

    #[test]
    fn an_open_instant_is_its_own_next_opening() {
        // Arrange
        let desk = paris_office(&[]);
        let morning = local(&desk, "2026-03-31T10:15:42");

        // Act
        let next = desk.next_open(morning);

        // Assert
        assert!(desk.is_open(morning));
        assert_eq!(next, Some(morning));
    }

    #[test]
    fn opening_and_closing_bounds_are_inclusive_and_exclusive() {
        // Arrange
        let desk = paris_office(&[]);

        // Act
        let at_opening = desk.is_open(local(&desk, "2026-03-31T09:00"));
        let before_closing = desk.is_open(local(&desk, "2026-03-31T17:59:59"));
        let at_closing = desk.is_open(local(&desk, "2026-03-31T18:00"));

        // Assert
        assert!(at_opening);
        assert!(before_closing);
        assert!(!at_closing);
    }

    #[test]
    fn a_holiday_on_a_weekday_skips_to_the_next_day() {
        // Arrange
        let desk = paris_office(&["2026-03-31"]);
        let monday_evening = local(&desk, "2026-03-30T19:00");

        // Act
        let next = desk.next_open(monday_evening);

        // Assert
        assert!(!desk.is_open(local(&desk, "2026-03-31T10:00")));
        assert_eq!(next, Some(local(&desk, "2026-04-01T09:00")));
    }

    #[test]
    fn a_night_shift_is_open_after_midnight_on_the_next_day() {
        // Arrange
        let night = calendar("Europe/Paris", &[("monday", &["22:00-02:00"])], &[]);

        // Act
        let after_midnight = night.is_open(local(&night, "2026-03-31T01:00"));
        let at_the_end = night.is_open(local(&night, "2026-03-31T02:00"));
        let next = night.next_open(local(&night, "2026-03-30T21:00"));

        // Assert
        assert!(after_midnight);
        assert!(!at_the_end);
        assert_eq!(next, Some(local(&night, "2026-03-30T22:00")));
    }

    #[test]
    fn a_holiday_does_not_close_the_tail_of_the_previous_evenings_shift() {
        // Arrange
        let night = calendar(
            "Europe/Paris",
            &[
                ("monday", &["22:00-02:00"]),
                ("tuesday", &["22:00-02:00"]),
                ("wednesday", &["22:00-02:00"]),
            ],
            &["2026-03-31"],
        );

        // Act
        let tail_on_the_holiday = night.is_open(local(&night, "2026-03-31T01:00"));
        let evening_of_the_holiday = night.is_open(local(&night, "2026-03-31T23:00"));
        let next = night.next_open(local(&night, "2026-03-31T02:00"));

        // Assert
        assert!(tail_on_the_holiday);
        assert!(!evening_of_the_holiday);
        assert_eq!(next, Some(local(&night, "2026-04-01T22:00")));
    }

    #[test]
    fn a_whole_day_lasts_23_hours_when_paris_springs_forward_and_25_when_it_falls_back() {
        // Arrange
        let desk = every_day("Europe/Paris", &["00:00-24:00"]);

        // Act
        let spring = desk.business_minutes_between(local(&desk, "2026-03-29T00:00"), local(&desk, "2026-03-30T00:00"));
        let autumn = desk.business_minutes_between(local(&desk, "2026-10-25T00:00"), local(&desk, "2026-10-26T00:00"));

        // Assert
        assert_eq!(spring, 1380);
        assert_eq!(autumn, 1500);
    }

    #[test]
    fn a_whole_day_lasts_23_hours_when_new_york_springs_forward_and_25_when_it_falls_back() {
        // Arrange
        let desk = every_day("America/New_York", &["00:00-24:00"]);

        // Act
        let spring = desk.business_minutes_between(local(&desk, "2026-03-08T00:00"), local(&desk, "2026-03-09T00:00"));
        let autumn = desk.business_minutes_between(local(&desk, "2026-11-01T00:00"), local(&desk, "2026-11-02T00:00"));

        // Assert
        assert_eq!(spring, 1380);
        assert_eq!(autumn, 1500);
    }

    #[test]
    fn office_hours_keep_their_wall_clock_bounds_across_daylight_saving_changes() {
        // Arrange
        let desk = every_day("Europe/Paris", &["09:00-17:00"]);

        // Act
        let spring = desk.business_minutes_between(local(&desk, "2026-03-29T00:00"), local(&desk, "2026-03-30T00:00"));
        let opening = desk.next_open(local(&desk, "2026-03-29T00:00"));

        // Assert
        assert_eq!(spring, 480);
        assert_eq!(opening, Some(utc("2026-03-29T07:00Z")));
    }

    #[test]
    fn an_interval_starting_in_the_skipped_hour_starts_when_the_clocks_jump() {
        // Arrange
        let desk = every_day("Europe/Paris", &["02:30-04:00"]);
        let midnight = local(&desk, "2026-03-29T00:00");

        // Act
        let opening = desk.next_open(midnight);
        let minutes = desk.business_minutes_between(midnight, local(&desk, "2026-03-30T00:00"));

        // Assert
        assert_eq!(opening, Some(utc("2026-03-29T01:00Z")));
        assert_eq!(minutes, 60);
    }

    #[test]
    fn an_interval_bound_in_the_repeated_hour_is_its_first_occurrence() {
        // Arrange
        let desk = every_day("Europe/Paris", &["02:00-03:00"]);
        let midnight = local(&desk, "2026-10-25T00:00");

        // Act
        let opening = desk.next_open(midnight);
        let minutes = desk.business_minutes_between(midnight, local(&desk, "2026-10-26T00:00"));

        // Assert
        assert_eq!(opening, Some(utc("2026-10-25T00:00Z")));
        assert_eq!(minutes, 120);
    }

    #[test]
    fn an_hour_of_work_started_friday_at_half_past_five_ends_monday_at_half_past_nine() {
        // Arrange
        let desk = calendar(
            "Europe/Paris",
            &[
                ("monday", &["09:00-18:00"]),
                ("tuesday", &["09:00-18:00"]),
                ("wednesday", &["09:00-18:00"]),
                ("thursday", &["09:00-18:00"]),
                ("friday", &["09:00-18:00"]),
            ],
            &[],
        );

        // Act
        let due = desk.add_business_minutes(local(&desk, "2026-03-27T17:30"), 60);

        // Assert
        assert_eq!(due, Some(local(&desk, "2026-03-30T09:30")));
    }

    #[test]
    fn minutes_ending_exactly_at_closing_time_are_due_at_closing_time() {
        // Arrange
        let desk = paris_office(&[]);

        // Act
        let due = desk.add_business_minutes(local(&desk, "2026-03-31T17:00"), 60);

        // Assert
        assert_eq!(due, Some(local(&desk, "2026-03-31T18:00")));
    }

    #[test]
    fn counting_from_a_closed_instant_begins_at_the_next_opening() {
        // Arrange
        let desk = paris_office(&[]);

        // Act
        let due = desk.add_business_minutes(local(&desk, "2026-03-31T12:45"), 300);

        // Assert
        assert_eq!(due, Some(local(&desk, "2026-04-01T09:30")));
    }

    #[test]
    fn zero_minutes_are_due_at_once_and_negative_minutes_are_refused() {
        // Arrange
        let desk = paris_office(&[]);
        let sunday = local(&desk, "2026-03-29T11:00");

        // Act
        let zero = desk.add_business_minutes(sunday, 0);
        let negative = desk.add_business_minutes(sunday, -1);

        // Assert
        assert_eq!(zero, Some(sunday));
        assert_eq!(negative, None);
    }

    #[test]
    fn business_minutes_skip_lunch_nights_and_weekends() {
        // Arrange
        let desk = paris_office(&[]);

        // Act
        let friday_to_monday =
            desk.business_minutes_between(local(&desk, "2026-03-27T17:00"), local(&desk, "2026-03-30T10:00"));
        let whole_weekday =
            desk.business_minutes_between(local(&desk, "2026-03-31T00:00"), local(&desk, "2026-04-01T00:00"));
        let backwards =
            desk.business_minutes_between(local(&desk, "2026-03-31T12:00"), local(&desk, "2026-03-31T10:00"));

        // Assert
        assert_eq!(friday_to_monday, 120);
        assert_eq!(whole_weekday, 480);
        assert_eq!(backwards, 0);
    }

    #[test]
    fn seconds_are_truncated_to_the_minute() {
        // Arrange
        let desk = BusinessCalendar::always_open();

        // Act
        let minutes = desk.business_minutes_between(utc("2026-03-31T10:00:59Z"), utc("2026-03-31T10:02:00Z"));

        // Assert
        assert_eq!(minutes, 2);
    }

    #[test]
    fn paused_spans_are_excluded_once_even_when_they_overlap() {
        // Arrange
        let desk = paris_office(&[]);
        let from = local(&desk, "2026-03-31T09:00");
        let to = local(&desk, "2026-03-31T18:00");
        let pauses = [
            (local(&desk, "2026-03-31T10:00"), local(&desk, "2026-03-31T11:00")),
            (local(&desk, "2026-03-31T10:30"), local(&desk, "2026-03-31T11:30")),
            // Mostly over lunch: only 12:00-12:30 and 13:30-14:00 were business time.
            (local(&desk, "2026-03-31T12:00"), local(&desk, "2026-03-31T14:00")),
            // Outside [from, to).
            (local(&desk, "2026-03-31T19:00"), local(&desk, "2026-03-31T20:00")),
        ];

        // Act
        let minutes = desk.business_minutes_between_with_pauses(from, to, &pauses);

        // Assert
        assert_eq!(minutes, 480 - 90 - 60);
    }

    #[test]
    fn a_pause_covering_the_whole_span_leaves_no_business_minutes() {
        // Arrange
        let desk = paris_office(&[]);
        let from = local(&desk, "2026-03-31T09:00");
        let to = local(&desk, "2026-03-31T18:00");

        // Act
        let minutes =
            desk.business_minutes_between_with_pauses(from, to, &[(from - jiff::SignedDuration::from_hours(1), to)]);

        // Assert
        assert_eq!(minutes, 0);
    }

    #[test]
    fn an_always_open_calendar_counts_wall_clock_minutes() {
        // Arrange
        let desk = BusinessCalendar::always_open();
        let from = utc("2026-03-28T22:17Z");
        let to = utc("2026-04-02T06:05Z");

        // Act
        let minutes = desk.business_minutes_between(from, to);
        let due = desk.add_business_minutes(from, 10_000);

        // Assert
        assert_eq!(minutes, (to.as_second() - from.as_second()) / 60);
        assert_eq!(due, Some(from + jiff::SignedDuration::from_mins(10_000)));
        assert_eq!(desk.next_open(from), Some(from));
        assert_eq!(desk.time_zone(), &TimeZone::UTC);
    }

    #[test]
    fn a_calendar_without_hours_never_opens() {
        // Arrange
        let closed = calendar("Europe/Paris", &[], &[]);
        let now = utc("2026-03-31T10:00Z");

        // Act
        let next = closed.next_open(now);
        let due = closed.add_business_minutes(now, 1);
        let minutes = closed.business_minutes_between(now, utc("2027-03-31T10:00Z"));

        // Assert
        assert_eq!(next, None);
        assert_eq!(due, None);
        assert_eq!(minutes, 0);
    }

    #[test]
    fn a_sunday_night_shift_runs_into_monday() {
        // Arrange
        let night = calendar("UTC", &[("sunday", &["22:00-02:00"])], &[]);

        // Act
        let monday_early = night.is_open(utc("2026-03-30T01:59Z"));
        let minutes = night.business_minutes_between(utc("2026-03-29T00:00Z"), utc("2026-03-31T00:00Z"));

        // Assert
        assert!(monday_early);
        assert_eq!(minutes, 240);
    }

    #[test]
    fn a_spec_is_read_from_json_with_hours_and_holidays_optional() {
        // Arrange
        let json = r#"{"time_zone": "Europe/Paris", "hours": {"monday": ["09:00-18:00"]}}"#;

        // Act
        let spec: CalendarSpec = serde_json::from_str(json).expect("valid json");

        // Assert
        assert_eq!(spec.hours["monday"], vec!["09:00-18:00".to_owned()]);
        assert!(spec.holidays.is_empty());
        assert!(BusinessCalendar::from_spec(&spec).is_ok());
    }

    #[test]
    fn an_unknown_time_zone_is_refused_by_name() {
        // Arrange
        let spec = spec("Europe/Atlantis", &[], &[]);

        // Act
        let error = error_of(spec);

        // Assert
        assert_eq!(error, CalendarError::UnknownTimeZone("Europe/Atlantis".into()));
        assert!(error.to_string().contains("time_zone"));
    }

    #[test]
    fn an_interval_with_impossible_hours_is_refused_with_its_day() {
        // Arrange
        let spec = spec("Europe/Paris", &[("tuesday", &["25:00-26:00"])], &[]);

        // Act
        let error = error_of(spec);

        // Assert
        assert!(matches!(
            &error,
            CalendarError::BadInterval { day, interval, .. } if day == "tuesday" && interval == "25:00-26:00"
        ));
        assert!(error.to_string().contains("hours.tuesday"));
    }

    #[test]
    fn malformed_intervals_are_refused() {
        // Arrange
        let bad = [
            "09:00",
            "9:00-12:00",
            "24:00-02:00",
            "09:00-24:30",
            "09:60-10:00",
            "nine-ten",
        ];

        for text in bad {
            // Act
            let error = error_of(spec("UTC", &[("monday", &[text])], &[]));

            // Assert
            assert!(
                matches!(&error, CalendarError::BadInterval { interval, .. } if interval == text),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn a_misspelled_weekday_is_refused_by_name() {
        // Arrange
        let spec = spec("Europe/Paris", &[("mondya", &["09:00-18:00"])], &[]);

        // Act
        let error = error_of(spec);

        // Assert
        assert_eq!(error, CalendarError::UnknownWeekday("mondya".into()));
    }

    #[test]
    fn an_impossible_holiday_is_refused_by_value() {
        // Arrange
        let spec = spec("Europe/Paris", &[], &["2026-12-25", "2026-13-01"]);

        // Act
        let error = error_of(spec);

        // Assert
        assert_eq!(error, CalendarError::BadHoliday("2026-13-01".into()));
        assert!(error.to_string().contains("holidays"));
    }

    #[test]
    fn overlapping_intervals_of_one_day_are_refused() {
        // Arrange
        let spec = spec("Europe/Paris", &[("monday", &["09:00-12:30", "12:00-18:00"])], &[]);

        // Act
        let error = error_of(spec);

        // Assert
        assert_eq!(
            error,
            CalendarError::Overlap {
                day: "monday".into(),
                a: "09:00-12:30".into(),
                other_day: "monday".into(),
                b: "12:00-18:00".into(),
            }
        );
    }

    #[test]
    fn a_night_shift_overlapping_the_next_mornings_hours_is_refused() {
        // Arrange
        let spec = spec(
            "UTC",
            &[("sunday", &["22:00-02:00"]), ("monday", &["01:00-09:00"])],
            &[],
        );

        // Act
        let error = error_of(spec);

        // Assert
        assert_eq!(
            error,
            CalendarError::Overlap {
                day: "sunday".into(),
                a: "22:00-02:00".into(),
                other_day: "monday".into(),
                b: "01:00-09:00".into(),
            }
        );
    }

    #[test]
    fn touching_intervals_are_accepted() {
        // Arrange
        let spec = spec(
            "UTC",
            &[
                ("monday", &["09:00-12:00", "12:00-24:00"]),
                ("tuesday", &["00:00-02:00"]),
            ],
            &[],
        );

        // Act
        let calendar = BusinessCalendar::from_spec(&spec).expect("valid spec");

        // Assert
        assert_eq!(
            calendar.business_minutes_between(utc("2026-03-30T00:00Z"), utc("2026-04-01T00:00Z")),
            17 * 60
        );
    }

    #[test]
    fn a_pause_inside_an_opening_pushes_the_deadline_by_its_business_length() {
        // Arrange
        let desk = paris_office(&[]);
        let start = local(&desk, "2026-03-31T11:00");
        // Mostly over lunch: only 12:00-12:30 and 13:30-14:00 are business time.
        let pauses = [(local(&desk, "2026-03-31T12:00"), local(&desk, "2026-03-31T14:00"))];

        // Act
        let unpaused = desk.add_business_minutes(start, 120);
        let paused = desk.add_business_minutes_with_pauses(start, 120, &pauses);

        // Assert
        assert_eq!(unpaused, Some(local(&desk, "2026-03-31T14:00")));
        assert_eq!(paused, Some(local(&desk, "2026-03-31T15:00")));
    }

    #[test]
    fn a_pause_spanning_a_weekend_and_a_holiday_resumes_the_count_when_it_ends() {
        // Arrange: Monday 6 April 2026 is Easter Monday.
        let desk = paris_office(&["2026-04-06"]);
        let thursday_evening = local(&desk, "2026-04-02T17:00");
        let pauses = [(local(&desk, "2026-04-03T10:00"), local(&desk, "2026-04-07T11:00"))];

        // Act
        let due = desk.add_business_minutes_with_pauses(thursday_evening, 180, &pauses);

        // Assert: an hour on Thursday, an hour on Friday morning, the last hour after the pause.
        assert_eq!(due, Some(local(&desk, "2026-04-07T12:00")));
        assert_eq!(
            desk.add_business_minutes(thursday_evening, 180),
            Some(local(&desk, "2026-04-03T11:00"))
        );
        assert_eq!(
            desk.business_minutes_between_with_pauses(thursday_evening, due.unwrap(), &pauses),
            180
        );
    }

    #[test]
    fn only_the_part_of_a_pause_after_the_start_delays_the_deadline() {
        // Arrange
        let desk = paris_office(&[]);
        let start = local(&desk, "2026-03-31T10:00");
        let pauses = [(local(&desk, "2026-03-31T08:00"), local(&desk, "2026-03-31T10:30"))];

        // Act
        let due = desk.add_business_minutes_with_pauses(start, 60, &pauses);

        // Assert
        assert_eq!(due, Some(local(&desk, "2026-03-31T11:30")));
    }

    #[test]
    fn overlapping_pauses_delay_the_deadline_once_and_empty_ones_not_at_all() {
        // Arrange
        let desk = paris_office(&[]);
        let start = local(&desk, "2026-03-31T09:00");
        let pauses = [
            (local(&desk, "2026-03-31T09:30"), local(&desk, "2026-03-31T10:30")),
            (local(&desk, "2026-03-31T10:00"), local(&desk, "2026-03-31T11:00")),
            (local(&desk, "2026-03-31T10:15"), local(&desk, "2026-03-31T10:45")),
            (local(&desk, "2026-03-31T09:30"), local(&desk, "2026-03-31T10:30")),
            // Ends before it starts: empty.
            (local(&desk, "2026-03-31T16:00"), local(&desk, "2026-03-31T11:00")),
        ];

        // Act
        let due = desk.add_business_minutes_with_pauses(start, 120, &pauses);

        // Assert: 90 paused minutes; the last counted minute is the last of the morning.
        assert_eq!(due, Some(local(&desk, "2026-03-31T12:30")));
    }

    #[test]
    fn a_deadline_falling_where_a_pause_begins_is_not_delayed_by_it() {
        // Arrange
        let desk = paris_office(&[]);
        let start = local(&desk, "2026-03-31T09:00");
        let pauses = [(local(&desk, "2026-03-31T10:00"), local(&desk, "2026-04-02T10:00"))];

        // Act
        let due = desk.add_business_minutes_with_pauses(start, 60, &pauses);

        // Assert
        assert_eq!(due, Some(local(&desk, "2026-03-31T10:00")));
    }

    #[test]
    fn zero_paused_minutes_are_due_at_once_and_negative_minutes_are_refused() {
        // Arrange
        let desk = paris_office(&[]);
        let paused_sunday = local(&desk, "2026-03-29T11:00:42");
        let pauses = [(local(&desk, "2026-03-28T00:00"), local(&desk, "2026-04-03T00:00"))];

        // Act
        let zero = desk.add_business_minutes_with_pauses(paused_sunday, 0, &pauses);
        let negative = desk.add_business_minutes_with_pauses(paused_sunday, -1, &pauses);

        // Assert
        assert_eq!(zero, Some(paused_sunday));
        assert_eq!(negative, None);
    }

    #[test]
    fn a_pause_that_never_ends_or_a_calendar_that_never_opens_leaves_no_deadline() {
        // Arrange
        let desk = paris_office(&[]);
        let closed = calendar("Europe/Paris", &[], &[]);
        let start = local(&desk, "2026-03-31T10:00");
        let forever = [(local(&desk, "2026-03-31T11:00"), Timestamp::MAX)];

        // Act
        let never_resumed = desk.add_business_minutes_with_pauses(start, 120, &forever);
        let never_open = closed.add_business_minutes_with_pauses(start, 1, &[]);

        // Assert
        assert_eq!(never_resumed, None);
        assert_eq!(never_open, None);
    }

    #[test]
    fn a_pause_across_midnight_in_a_night_shift_delays_the_deadline_past_midnight() {
        // Arrange
        let night = every_day("Europe/Paris", &["22:00-02:00"]);
        let start = local(&night, "2026-03-31T22:00");
        let pauses = [(local(&night, "2026-03-31T23:30"), local(&night, "2026-04-01T00:30"))];

        // Act
        let unpaused = night.add_business_minutes(start, 150);
        let paused = night.add_business_minutes_with_pauses(start, 150, &pauses);
        let next_night = night.add_business_minutes_with_pauses(start, 200, &pauses);

        // Assert
        assert_eq!(unpaused, Some(local(&night, "2026-04-01T00:30")));
        assert_eq!(paused, Some(local(&night, "2026-04-01T01:30")));
        assert_eq!(next_night, Some(local(&night, "2026-04-01T22:20")));
    }

    #[test]
    fn a_paused_night_shift_counts_real_minutes_when_paris_springs_forward() {
        // Arrange: 22:00 CET to 06:00 CEST lasts seven hours; 02:00 CET jumps to 03:00 CEST.
        let night = every_day("Europe/Paris", &["22:00-06:00"]);
        let start = local(&night, "2026-03-28T22:00");
        // 01:30 CET to 03:30 CEST: an hour of real time across the jump.
        let pauses = [(utc("2026-03-29T00:30Z"), utc("2026-03-29T01:30Z"))];

        // Act
        let due = night.add_business_minutes_with_pauses(start, 330, &pauses);

        // Assert: 210 minutes before the pause, 120 after it.
        assert_eq!(due, Some(utc("2026-03-29T03:30Z")));
        assert_eq!(due, Some(local(&night, "2026-03-29T05:30")));
    }

    #[test]
    fn a_paused_night_shift_counts_real_minutes_when_paris_falls_back() {
        // Arrange: 22:00 CEST to 06:00 CET lasts nine hours; 03:00 CEST falls back to 02:00 CET.
        let night = every_day("Europe/Paris", &["22:00-06:00"]);
        let start = local(&night, "2026-10-24T22:00");
        // From the first 02:30 (CEST) to the second (CET): an hour of real time.
        let pauses = [(utc("2026-10-25T00:30Z"), utc("2026-10-25T01:30Z"))];

        // Act
        let due = night.add_business_minutes_with_pauses(start, 330, &pauses);

        // Assert: 270 minutes before the pause, 60 after it.
        assert_eq!(due, Some(utc("2026-10-25T02:30Z")));
        assert_eq!(due, Some(local(&night, "2026-10-25T03:30")));
    }
}
