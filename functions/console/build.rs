//! A release build embeds `console/dist` (rust-embed): rebuild when the
//! console's build output changes, including when it appears for the first
//! time. A debug build reads the files from disk at run time, so a fresh
//! `npm run build` needs no Rust rebuild there.

fn main() {
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        // Cargo scans a directory recursively; a path that does not exist yet
        // reruns this script on every build until it does.
        println!("cargo:rerun-if-changed=../../console/dist");
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
