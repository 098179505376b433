//! The built-in catalog: every file parses strictly, the coverage counts hold, and every entry
//! records its source and the date it was checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

use peekr::pricing::PricingTable;

/// The built-in data files, read from the source tree.
pub(crate) fn data_files() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/pricing/data");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("src/pricing/data exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_builtin_file_parses_strictly() {
    let files = data_files();
    assert!(files.len() >= 12, "{} data files", files.len());
    for (name, text) in &files {
        if let Err(e) = PricingTable::from_toml_str(text, name) {
            panic!("{e}");
        }
    }
}

#[test]
fn builtin_table_has_no_diagnostics_and_matches_the_files() {
    let files = data_files();
    let mut total = 0;
    for (name, text) in &files {
        let (table, diags) = PricingTable::from_toml_str_lossy(text, name);
        assert!(diags.is_empty(), "{name}: {diags:?}");
        total += table.models().len();
    }
    assert_eq!(
        PricingTable::builtin().models().len(),
        total,
        "a data file is missing from BUILTIN_FILES"
    );
}

#[test]
fn coverage_counts_hold() {
    let table = PricingTable::builtin();
    let mut per_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for m in table.models() {
        *per_provider.entry(&m.provider).or_default() += 1;
    }
    let total: usize = per_provider.values().sum();
    assert!(total >= 400, "{total} models: {per_provider:?}");
    assert!(
        per_provider.len() >= 12,
        "{} providers: {per_provider:?}",
        per_provider.len()
    );
    for p in [
        "openai",
        "anthropic",
        "google",
        "google-vertex",
        "aws-bedrock",
        "azure",
        "mistral",
        "cohere",
        "deepseek",
        "xai",
        "groq",
        "together",
        "fireworks",
    ] {
        assert!(
            per_provider.get(p).copied().unwrap_or(0) >= 5,
            "provider {p}: {per_provider:?}"
        );
    }
}

#[test]
fn every_entry_has_source_and_checked_date() {
    for m in PricingTable::builtin().models() {
        let source = m.source.as_deref().unwrap_or("");
        assert!(
            source.starts_with("https://"),
            "{} ({}) has no source URL",
            m.id,
            m.provider
        );
        let checked = m.checked.as_deref().unwrap_or("");
        assert!(
            checked.len() == 10 && checked.starts_with("20"),
            "{} ({}) has no checked date",
            m.id,
            m.provider
        );
    }
}
