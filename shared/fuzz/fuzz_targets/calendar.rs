//! Business-calendar arithmetic on calendars and times made from any bytes:
//! opening hours (with intervals past midnight), holidays, time zones with
//! daylight saving, instants across centuries. Adding business minutes never
//! goes back in time, and nothing panics.
#![no_main]

use helpdesk::domain::calendar::{BusinessCalendar, CalendarSpec};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const ZONES: &[&str] = &["UTC", "Europe/Paris", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"];
const DAYS: &[&str] = &["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let (numbers, rest) = data.split_at(24);
    let n = |i: usize| i64::from_le_bytes(numbers[i * 8..i * 8 + 8].try_into().unwrap());
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.lines();
    let zone = ZONES[(numbers[0] as usize) % ZONES.len()].to_owned();
    let mut hours = BTreeMap::new();
    for day in DAYS {
        if let Some(line) = lines.next() {
            hours.insert((*day).to_owned(), line.split(',').map(str::to_owned).collect());
        }
    }
    let holidays = lines.next().map(|l| l.split(',').map(str::to_owned).collect()).unwrap_or_default();
    let spec = CalendarSpec { time_zone: zone, hours, holidays };
    let Ok(calendar) = BusinessCalendar::from_spec(&spec) else { return };
    // Instants between 1900 and 2200, minutes up to about two years.
    let start = Timestamp::from_second(n(1).rem_euclid(9_467_280_000) - 2_208_988_800).unwrap();
    let end = Timestamp::from_second(n(2).rem_euclid(9_467_280_000) - 2_208_988_800).unwrap();
    let minutes = (n(0) >> 8).rem_euclid(1_051_200);
    let _ = calendar.is_open(start);
    let _ = calendar.next_open(start);
    let _ = calendar.business_minutes_between(start, end);
    if let Some(due) = calendar.add_business_minutes(start, minutes) {
        assert!(due >= start, "{minutes} business minutes after {start} is {due}");
    }
});
