//! Graph API versions the simulator serves, with Meta's release and expiry dates, judged by the
//! simulated clock: a version is served from its release until the day it expires.

/// One Graph API version: `(name, released, expires)`, dates as `(year, month, day)` in UTC.
type Version = (&'static str, (i64, i64, i64), Option<(i64, i64, i64)>);

/// Meta's table (Graph API changelog, "Versions"): each version expires two years after the next
/// one's release. v26.0 has no expiry date yet.
const VERSIONS: &[Version] = &[
    ("v21.0", (2024, 10, 2), Some((2027, 1, 21))),
    ("v22.0", (2025, 1, 21), Some((2027, 5, 20))),
    ("v23.0", (2025, 5, 29), Some((2027, 10, 8))),
    ("v24.0", (2025, 10, 8), Some((2028, 2, 18))),
    ("v25.0", (2026, 2, 18), Some((2028, 7, 29))),
    ("v26.0", (2026, 7, 29), None),
];

/// Why a version path segment is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not shaped like a version at all (`v25.0`): Meta's unknown path error.
    NotAVersion,
    /// A version not served at this time: Meta's deprecated-version error naming the latest one.
    NotServed {
        /// The newest version served now, e.g. `v26.0`.
        latest: &'static str,
    },
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix_s((year, month, day): (i64, i64, i64)) -> i64 {
    days_from_civil(year, month, day) * 86_400
}

fn served(version: &Version, now_s: i64) -> bool {
    let (_, released, expires) = version;
    unix_s(*released) <= now_s && expires.is_none_or(|e| now_s < unix_s(e))
}

/// Whether `segment` looks like a Graph API version (`v` then digits, a dot, digits).
fn shaped_like_a_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
        })
}

/// The newest version served at `now_s` (unix seconds); the newest of all when none is.
pub fn latest(now_s: i64) -> &'static str {
    VERSIONS
        .iter()
        .rev()
        .find(|v| served(v, now_s))
        .or(VERSIONS.last())
        .map_or("v26.0", |(name, _, _)| name)
}

/// Names of the versions served at `now_s`, oldest first.
pub fn served_at(now_s: i64) -> Vec<&'static str> {
    VERSIONS
        .iter()
        .filter(|v| served(v, now_s))
        .map(|(name, _, _)| *name)
        .collect()
}

/// Checks the version segment of a Graph path against the simulated time.
pub fn check(segment: &str, now_s: i64) -> Result<(), Refusal> {
    if !shaped_like_a_version(segment) {
        return Err(Refusal::NotAVersion);
    }
    match VERSIONS.iter().find(|(name, _, _)| *name == segment) {
        Some(version) if served(version, now_s) => Ok(()),
        _ => Err(Refusal::NotServed { latest: latest(now_s) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn civil_dates_convert_to_unix_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(unix_s((2027, 1, 21)), 1_800_489_600);
    }

    #[test]
    fn v21_is_served_until_the_day_it_retires_and_v26_from_its_release() {
        let retire = unix_s((2027, 1, 21));
        let v26 = unix_s((2026, 7, 29));

        assert_eq!(check("v21.0", retire - 1), Ok(()));
        assert_eq!(check("v21.0", retire), Err(Refusal::NotServed { latest: "v26.0" }));
        assert_eq!(check("v26.0", v26 - 1), Err(Refusal::NotServed { latest: "v25.0" }));
        assert_eq!(check("v26.0", v26), Ok(()));
        assert_eq!(check("v25.0", unix_s((2028, 7, 28))), Ok(()));
        assert!(check("v25.0", unix_s((2028, 7, 29))).is_err());
    }

    #[test]
    fn unknown_versions_are_not_served_and_other_segments_are_not_versions() {
        let now = unix_s((2026, 12, 4));
        for old in ["v20.0", "v1.0", "v27.0", "v25.1"] {
            assert_eq!(check(old, now), Err(Refusal::NotServed { latest: "v26.0" }), "{old}");
        }
        for other in ["v25", "25.0", "latest", "v.0", "vx.0"] {
            assert_eq!(check(other, now), Err(Refusal::NotAVersion), "{other}");
        }
        assert_eq!(
            served_at(now + 60 * DAY),
            ["v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0"][1..]
        );
    }
}
