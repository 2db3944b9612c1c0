//! Embeds Apache ECharts, which the statistics pages draw their charts with.
//!
//! The script is not copied into this repository: it comes with the `charming` crate (a
//! dependency, whose package carries `src/asset/echarts-*.min.js`), found here through
//! `cargo metadata` and copied into `OUT_DIR`, so that the binary serves it itself and pages
//! need no outside network.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let script = find_echarts().unwrap_or_else(|e| {
        println!("cargo:warning=ECharts not found in the charming package: {e}");
        std::process::exit(1);
    });
    if let Err(e) = fs::copy(&script, out.join("echarts.min.js")) {
        println!("cargo:warning=copying {}: {e}", script.display());
        std::process::exit(1);
    }
    let version = script
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("echarts-"))
        .and_then(|n| n.strip_suffix(".min.js"))
        .unwrap_or("unknown")
        .to_string();
    println!("cargo:rustc-env=LIANZHENG_ECHARTS_VERSION={version}");
}

fn find_echarts() -> Result<PathBuf, String> {
    // `cargo metadata` resolves the whole workspace, dev-dependencies included, and fails offline
    // on a fresh machine where `cargo build` has fetched only what the build needs; the package
    // is then looked up in cargo's registry sources by the version in `Cargo.lock`.
    match charming_dir_from_metadata() {
        Ok(dir) => newest_echarts(&dir),
        Err(metadata_error) => charming_dir_from_registry()
            .and_then(|dir| newest_echarts(&dir))
            .map_err(|e| format!("{metadata_error}; and in the registry sources: {e}")),
    }
}

fn charming_dir_from_registry() -> Result<PathBuf, String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let lock = manifest_dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.exists())
        .ok_or("no Cargo.lock")?;
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let mut lines = text.lines();
    let version = loop {
        match lines.next() {
            Some("name = \"charming\"") => {
                break lines
                    .next()
                    .and_then(|l| l.strip_prefix("version = \""))
                    .and_then(|l| l.strip_suffix('"'))
                    .ok_or("Cargo.lock: no version after charming")?;
            }
            Some(_) => {}
            None => return Err("charming is not in Cargo.lock".into()),
        }
    };
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let src = home.join("registry/src");
    let package = format!("charming-{version}");
    fs::read_dir(&src)
        .map_err(|e| format!("{}: {e}", src.display()))?
        .filter_map(Result::ok)
        .map(|index| index.path().join(&package))
        .find(|p| p.is_dir())
        .map(|p| p.join("src/asset"))
        .ok_or_else(|| format!("no {package} under {}", src.display()))
}

fn charming_dir_from_metadata() -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest =
        Path::new(&env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?).join("Cargo.toml");
    // Only this target's packages: they are the ones cargo has already fetched for this build.
    let target = env::var("TARGET").map_err(|e| e.to_string())?;
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(&target)
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .map_err(|e| format!("running cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let packages = meta["packages"].as_array().ok_or("no packages")?;
    let charming = packages
        .iter()
        .find(|p| p["name"] == "charming")
        .ok_or("the charming package is not in the dependency graph")?;
    let dir = Path::new(
        charming["manifest_path"]
            .as_str()
            .ok_or("no manifest path")?,
    )
    .parent()
    .ok_or("no package directory")?
    .join("src/asset");
    Ok(dir)
}

fn newest_echarts(dir: &Path) -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("echarts-") && n.ends_with(".min.js"))
        })
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| format!("no echarts-*.min.js in {}", dir.display()))
}
