//! The files of each crate form layers: no file uses, through `crate::`, `super::` or
//! `self::` paths, a file that uses it back, directly or through others. A circle makes a
//! crate hard to read and to change; this test names the files of any circle it finds.
//!
//! Paths through the crate root (`crate::Name`) count for the module `lib.rs` re-exports
//! `Name` from. Comments and unit tests (`#[cfg(test)] mod tests`) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose files must form layers, from the workspace root.
const CRATES: [&str; 5] =
    ["harness/src", "reference-client/src", "reference-server/src", "scenarios/src", "examples/json-store/src"];

/// A crate's modules, each a file, by path (`certify::run`), with their source.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory reads") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("below the source directory").with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|last| last == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            if name != "lib" && name != "main" {
                found.insert(name, std::fs::read_to_string(&path).expect("a source file reads"));
            }
        }
    }
    found
}

/// The names `lib.rs` re-exports at the root, with the module each comes from.
fn root_exports(src: &Path) -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let mut exports = BTreeMap::new();
    for statement in lib.split(';').map(str::trim) {
        let Some(path) = statement.strip_prefix("pub use ") else { continue };
        let Some((module, names)) = path.split_once("::") else { continue };
        for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|n| !n.is_empty()) {
            exports.insert(name.to_owned(), module.to_owned());
        }
    }
    exports
}

/// `source` without its comments and its unit tests.
fn code(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    source.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The `crate::`, `super::` and `self::` paths of `code`, as their segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(start) {
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String =
                code[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            found.push(path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect());
        }
    }
    found
}

/// The module `path`, written in module `from`, points into, if one of `modules`.
fn target(
    path: &[String],
    from: &str,
    is_dir: bool,
    modules: &BTreeSet<String>,
    exports: &BTreeMap<String, String>,
) -> Option<String> {
    let mut here: Vec<String> = from.split("::").map(str::to_owned).collect();
    if !is_dir {
        here.pop();
    }
    let mut segments: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => {
            let rest = &path[1..];
            match rest.first() {
                Some(first) if !modules.contains(first) => {
                    let module = exports.get(first)?;
                    std::iter::once(module.clone()).chain(rest.iter().cloned()).collect()
                }
                _ => rest.to_vec(),
            }
        }
        Some("self") => here.into_iter().chain(path[1..].iter().cloned()).collect(),
        Some("super") => {
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                here.pop();
                rest = &rest[1..];
            }
            here.into_iter().chain(rest.iter().cloned()).collect()
        }
        _ => return None,
    };
    while !segments.is_empty() {
        let name = segments.join("::");
        if modules.contains(&name) {
            return Some(name);
        }
        segments.pop();
    }
    None
}

/// The circles of `edges`: strongly connected components of more than one module.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(module) = todo.pop() {
            for next in edges.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> = edges.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for (module, reached) in &reachable {
        let circle: Vec<String> = reached
            .iter()
            .filter(|other| reachable.get(other).is_some_and(|back| back.contains(*module)))
            .cloned()
            .collect();
        if circle.len() > 1 && !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

fn crate_circles(src: &Path) -> Vec<Vec<String>> {
    let modules = modules(src);
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let exports = root_exports(src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, source) in &modules {
        let is_dir = src.join(module.replace("::", "/")).join("mod.rs").exists();
        let targets = paths(&code(source)).into_iter().filter_map(|p| target(&p, module, is_dir, &names, &exports));
        let inside = |t: &String| t != module && !module.starts_with(&format!("{t}::"));
        edges.entry(module.clone()).or_default().extend(targets.filter(inside));
    }
    circles(&edges)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the harness is a workspace member").to_owned()
}

#[test]
fn the_files_of_every_crate_form_layers() {
    for krate in CRATES {
        let circles = crate_circles(&workspace().join(krate));
        assert!(circles.is_empty(), "{krate}: these files import each other in a circle: {circles:?}");
    }
}

#[test]
fn a_circle_is_found() {
    let edges = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(circles(&edges), vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
}

#[test]
fn files_that_import_each_other_through_the_root_are_a_circle() {
    let src = tempfile::tempdir().expect("a temporary directory");
    let write = |name: &str, text: &str| std::fs::write(src.path().join(name), text).expect("a file writes");
    write("lib.rs", "mod a;\nmod b;\nmod c;\npub use b::Bee;\n");
    write("a.rs", "use crate::Bee;\npub struct Ay;\n");
    write("b.rs", "// crate::c::Sea in a comment is no import\npub struct Bee(crate::a::Ay);\n");
    write("c.rs", "pub struct Sea;\n#[cfg(test)]\nmod tests {\n    use crate::a::Ay;\n}\n");
    assert_eq!(crate_circles(src.path()), vec![vec!["a".to_owned(), "b".to_owned()]]);
}
