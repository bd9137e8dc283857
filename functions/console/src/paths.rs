//! What a request path under `/console` asks for, and how long a browser
//! may keep the answer. Pure: no file is read here.

/// The console's base path; the SPA's own routes live under it.
pub const BASE: &str = "/console/";

/// What a path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// `/console`: the console lives at `/console/` (its relative URLs need the slash).
    Base,
    /// `/console/config.json`: the runtime configuration.
    Config,
    /// `/console/` itself, or a path ending in `/`: the SPA's page.
    Page,
    /// A path under `/console/` naming a file of the build if there is one
    /// (`assets/index-3f9a.js`), or else a client-side route (`tickets/TK-1`).
    Path(&'a str),
    /// Outside `/console`, or a path that cannot name a file of the build
    /// (`..`, `.`, an empty segment, a backslash).
    NotFound,
}

/// The target of a raw request path (as API Gateway's `rawPath` gives it).
pub fn target(raw_path: &str) -> Target<'_> {
    if raw_path == "/console" {
        return Target::Base;
    }
    let Some(rest) = raw_path.strip_prefix(BASE) else {
        return Target::NotFound;
    };
    if rest.is_empty() {
        return Target::Page;
    }
    if rest == "config.json" {
        return Target::Config;
    }
    let inner = rest.strip_suffix('/').unwrap_or(rest);
    let unsafe_segment =
        |segment: &str| segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\');
    if inner.split('/').any(unsafe_segment) || inner.contains('\0') {
        return Target::NotFound;
    }
    if rest.ends_with('/') {
        return Target::Page;
    }
    Target::Path(rest)
}

/// Whether a path names a file by its look (its last segment has an
/// extension): a missing file is then a 404, while a path without one is a
/// client-side route and gets the SPA's page.
pub fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|name| name.contains('.'))
}

/// How long a browser may keep an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Hashed files under `assets/`: their name changes with their content.
    Immutable,
    /// Everything else (`index.html`, `config.json`, unhashed files): kept,
    /// but checked again (with the ETag) before each use.
    Revalidate,
}

impl Caching {
    /// The caching of the file at `path` (relative to the build folder).
    pub fn of(path: &str) -> Caching {
        if path.starts_with("assets/") {
            Caching::Immutable
        } else {
            Caching::Revalidate
        }
    }

    /// The `Cache-Control` value.
    pub fn header(self) -> &'static str {
        match self {
            Caching::Immutable => "public, max-age=31536000, immutable",
            Caching::Revalidate => "no-cache",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_without_its_slash_is_sent_to_the_base_with_it() {
        assert_eq!(target("/console"), Target::Base);
        assert_eq!(target("/console/"), Target::Page);
    }

    #[test]
    fn the_configuration_files_and_client_routes_are_told_apart() {
        assert_eq!(target("/console/config.json"), Target::Config);
        assert_eq!(
            target("/console/assets/index-3f9a.js"),
            Target::Path("assets/index-3f9a.js")
        );
        assert_eq!(
            target("/console/tickets/TK-3F9A0C51D2E7"),
            Target::Path("tickets/TK-3F9A0C51D2E7")
        );
        assert_eq!(target("/console/dashboard/"), Target::Page);
    }

    #[test]
    fn paths_that_could_leave_the_build_folder_or_are_not_the_console_s_are_not_found() {
        assert_eq!(target("/console/../template.yaml"), Target::NotFound);
        assert_eq!(target("/console/assets/../../x.js"), Target::NotFound);
        assert_eq!(target("/console/./index.html"), Target::NotFound);
        assert_eq!(target("/console//etc/passwd"), Target::NotFound);
        assert_eq!(target("/console/a\\b.js"), Target::NotFound);
        assert_eq!(target("/consoles/"), Target::NotFound);
        assert_eq!(target("/api/tickets"), Target::NotFound);
    }

    #[test]
    fn a_path_looks_like_a_file_when_its_last_segment_has_an_extension() {
        assert!(looks_like_a_file("assets/index-3f9a.js"));
        assert!(looks_like_a_file("favicon.ico"));
        assert!(!looks_like_a_file("tickets/TK-3F9A0C51D2E7"));
        assert!(!looks_like_a_file("v1.2/admin"));
    }

    #[test]
    fn hashed_assets_are_kept_for_a_year_and_the_rest_is_checked_each_time() {
        assert_eq!(Caching::of("assets/index-3f9a.js"), Caching::Immutable);
        assert_eq!(Caching::of("index.html"), Caching::Revalidate);
        assert_eq!(Caching::of("favicon.ico"), Caching::Revalidate);
        assert_eq!(Caching::Immutable.header(), "public, max-age=31536000, immutable");
        assert_eq!(Caching::Revalidate.header(), "no-cache");
    }
}
