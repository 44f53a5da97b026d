//! Embeds the golden cases of `tests/golden` (every `*.json` there and in its folders) in
//! the library, for the conformance kit (`src/conformance.rs`): the files are the single
//! source of the kit's cases, read at compile time with `include_str!`, so that the kit
//! served can never differ from the cases the test suite checks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, root, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path
                .strip_prefix(root)
                .map_err(std::io::Error::other)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(std::io::Error::other)?);
    let root = manifest.join("tests").join("golden");
    // A folder named here makes cargo rerun this script when any file under it changes.
    println!("cargo:rerun-if-changed=tests/golden");
    let mut files = Vec::new();
    collect(&root, &root, &mut files)?;
    files.sort();
    let mut code = String::from(
        "/// Every golden case file: its path under `tests/golden` and its text.\n\
         pub static GOLDEN_FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in &files {
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(std::io::Error::other)?);
    std::fs::write(out.join("golden_files.rs"), code)
}
