//! Build facts for the `build` section of `syncsim certify --report`: the profile, the
//! target triple, and the git commit when git can tell (empty otherwise: a source tarball
//! or a machine without git still builds).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for name in ["PROFILE", "TARGET"] {
        println!("cargo:rustc-env=SYNCSIM_{name}={}", std::env::var(name).unwrap_or_default());
    }
    println!("cargo:rustc-env=SYNCSIM_GIT_COMMIT={}", git(&["rev-parse", "HEAD"]).unwrap_or_default());
    for path in watched() {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// What `git ARGS` prints, trimmed, when it succeeds and prints something.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// The files a commit or a checkout rewrites: HEAD, the branch's loose ref, the packed refs.
/// Only existing ones: cargo reruns a build script on every build while a watched path is
/// missing.
fn watched() -> Vec<String> {
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    ["HEAD", "packed-refs"]
        .into_iter()
        .chain(branch.as_deref())
        .filter_map(|name| git(&["rev-parse", "--git-path", name]))
        .filter(|path| Path::new(path).exists())
        .collect()
}
