//! Model-string matching: from the names real spans carry to catalog entries.
//!
//! Tried in order, first hit wins (each step also honours the provider hint):
//! 1. deployment aliases from overrides (Azure deployment names);
//! 2. the name as given (lower-cased), so ids containing `/` (`meta-llama/...`) match whole;
//! 3. the name with leading path segments stripped one at a time (`openai/`, `models/`,
//!    `azure/eu/`, `publishers/google/models/`), a known provider segment becoming the hint and
//!    an Azure region segment (`eu`, `us`) turning on the data-zone multiplier;
//! 4. for each of those: Bedrock region prefixes (`us.`, `eu.`, `apac.`, `global.` …) and
//!    `:N` revisions; Vertex `@` versions (`x@20240620` → `x-20240620`, then `x`); fine-tunes
//!    (`ft:base:org::id` → `ft:base`, then `ft:` + base without its date); and finally dated
//!    or numbered snapshot suffixes stripped one at a time (`-2024-08-06`, `-20240620`,
//!    `-0613`, `-001`, `-latest`, `-v1`), so an unknown snapshot falls back to its base name
//!    while a snapshot with its own entry keeps it.

use std::collections::HashMap;
use std::sync::Arc;

use super::Resolved;
use super::table::{DeploymentAlias, ModelPrice, Provider};

/// Provider names spans use (semconv `gen_ai.provider.name` values and common spellings),
/// mapped to catalog provider ids. Catalog `[[provider]] aliases` extend this.
const PROVIDER_ALIASES: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("azure", "azure"),
    ("azure.ai.openai", "azure"),
    ("az.ai.openai", "azure"),
    ("azure_openai", "azure"),
    ("azure.ai.inference", "azure"),
    ("aws.bedrock", "aws-bedrock"),
    ("aws-bedrock", "aws-bedrock"),
    ("bedrock", "aws-bedrock"),
    ("amazon-bedrock", "aws-bedrock"),
    ("gcp.vertex_ai", "google-vertex"),
    ("vertex_ai", "google-vertex"),
    ("vertexai", "google-vertex"),
    ("vertex", "google-vertex"),
    ("google-vertex", "google-vertex"),
    ("gcp.gemini", "google"),
    ("gcp.gen_ai", "google"),
    ("gemini", "google"),
    ("google", "google"),
    ("google_genai", "google"),
    ("mistral_ai", "mistral"),
    ("mistralai", "mistral"),
    ("mistral", "mistral"),
    ("cohere", "cohere"),
    ("deepseek", "deepseek"),
    ("x_ai", "xai"),
    ("xai", "xai"),
    ("groq", "groq"),
    ("together", "together"),
    ("together_ai", "together"),
    ("fireworks", "fireworks"),
    ("fireworks_ai", "fireworks"),
    ("perplexity", "perplexity"),
];

/// Azure data-zone region segments (`azure/eu/gpt-4o`).
const DATA_ZONE_SEGMENTS: &[&str] = &["eu", "us", "datazone", "data-zone", "dz"];

/// Bedrock cross-region inference prefixes.
const BEDROCK_REGIONS: &[&str] = &[
    "us.", "eu.", "apac.", "us-gov.", "global.", "jp.", "au.", "ca.", "ap.",
];

#[derive(Debug, Default)]
pub(super) struct Index {
    by_name: HashMap<Box<str>, Vec<usize>>,
    providers: HashMap<Box<str>, Arc<str>>,
    deployments: HashMap<Box<str>, DeploymentAlias>,
    alias_list: Vec<DeploymentAlias>,
}

impl Index {
    pub(super) fn build(
        models: &[ModelPrice],
        providers: &[Provider],
        aliases: Vec<DeploymentAlias>,
    ) -> Index {
        let mut index = Index::default();
        for (i, m) in models.iter().enumerate() {
            for name in std::iter::once(&m.id).chain(m.aliases.iter()) {
                let slot = index.by_name.entry(Box::from(&**name)).or_default();
                // A later source (a user's file) that lists the same name for the same
                // provider overrides the earlier entry, also through an alias.
                match slot.iter_mut().find(|j| models[**j].provider == m.provider) {
                    Some(j) => *j = i,
                    None => slot.push(i),
                }
            }
        }
        for (alias, id) in PROVIDER_ALIASES {
            index.providers.insert(Box::from(*alias), Arc::from(*id));
        }
        for p in providers {
            index.providers.insert(Box::from(&*p.id), p.id.clone());
            for a in &p.aliases {
                index.providers.insert(Box::from(&**a), p.id.clone());
            }
        }
        for a in &aliases {
            index.deployments.insert(Box::from(&*a.name), a.clone());
        }
        index.alias_list = aliases;
        index
    }

    pub(super) fn aliases(&self) -> &[DeploymentAlias] {
        &self.alias_list
    }

    fn provider_id(&self, name: &str) -> Option<&Arc<str>> {
        self.providers.get(name)
    }

    fn lookup(&self, models: &[ModelPrice], name: &str, hint: Option<&str>) -> Option<usize> {
        let slot = self.by_name.get(name)?;
        if let Some(h) = hint
            && let Some(&i) = slot.iter().find(|&&i| &*models[i].provider == h)
        {
            return Some(i);
        }
        slot.first().copied()
    }

    pub(super) fn resolve(
        &self,
        models: &[ModelPrice],
        model: &str,
        hint: Option<&str>,
    ) -> Option<Resolved> {
        let lower = model.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return None;
        }
        let mut hint: Option<Arc<str>> = hint.map(|h| h.trim().to_ascii_lowercase()).map(|h| {
            self.provider_id(&h)
                .cloned()
                .unwrap_or_else(|| Arc::from(h))
        });
        if let Some(a) = self.deployments.get(lower.as_str()) {
            let h = a.provider.clone().or(hint.clone());
            return self
                .lookup(models, &a.model, h.as_deref())
                .or_else(|| self.variants_inner(models, &a.model, h.as_deref()))
                .map(|index| Resolved {
                    index,
                    data_zone: a.data_zone,
                });
        }
        let mut data_zone = false;
        let mut name: &str = &lower;
        loop {
            if let Some(index) = self.lookup(models, name, hint.as_deref()) {
                return Some(Resolved { index, data_zone });
            }
            if let Some((index, regional)) = self.variants(models, name, hint.as_deref()) {
                return Some(Resolved {
                    index,
                    data_zone: data_zone || regional,
                });
            }
            let Some((head, rest)) = name.split_once('/') else {
                break;
            };
            if head == "publishers" {
                // `publishers/google/models/x` names the model's publisher, not the platform
                // serving it: keep the span's provider hint (Vertex).
                name = rest.split_once('/').map_or(rest, |(_, after)| after);
                continue;
            }
            if let Some(p) = self.provider_id(head) {
                hint = Some(p.clone());
                // `azure/eu/gpt-4o`: a region segment right after the provider.
                if let Some((region, after)) = rest.split_once('/') {
                    if DATA_ZONE_SEGMENTS.contains(&region) {
                        data_zone = true;
                        name = after;
                        continue;
                    }
                    if region == "global" {
                        name = after;
                        continue;
                    }
                }
            }
            // Any other leading segment (`models/`, an owner such as `meta-llama/` on a host
            // that lists the bare name) is stripped like the others.
            name = rest;
        }
        None
    }

    /// The non-path variants of one name: Bedrock, Vertex, fine-tune and snapshot suffixes.
    /// The flag says a regional (non-global) Bedrock inference prefix was stripped, which
    /// Bedrock bills with the model's regional uplift.
    fn variants(
        &self,
        models: &[ModelPrice],
        name: &str,
        hint: Option<&str>,
    ) -> Option<(usize, bool)> {
        let regional = BEDROCK_REGIONS.iter().any(|r| {
            *r != "global." && name.strip_prefix(r).is_some_and(|rest| rest.contains('.'))
        });
        self.variants_inner(models, name, hint)
            .map(|i| (i, regional))
    }

    fn variants_inner(
        &self,
        models: &[ModelPrice],
        name: &str,
        hint: Option<&str>,
    ) -> Option<usize> {
        let try_name = |n: &str| self.lookup(models, n, hint);
        // Bedrock: region prefix and revision suffix.
        let mut base = name;
        for region in BEDROCK_REGIONS {
            if let Some(rest) = name.strip_prefix(region)
                && rest.contains('.')
            {
                base = rest;
                if let Some(i) = try_name(base) {
                    return Some(i);
                }
                break;
            }
        }
        if let Some((head, rev)) = base.rsplit_once(':') {
            if !head.starts_with("ft") && rev.bytes().all(|b| b.is_ascii_digit()) {
                if let Some(i) = try_name(head) {
                    return Some(i);
                }
                base = head;
            }
        } else if base.contains('.')
            && base.contains("-v")
            && let Some(i) = try_name(&format!("{base}:0"))
        {
            return Some(i);
        }
        // Vertex `@` versions.
        if let Some((head, version)) = base.split_once('@') {
            if let Some(i) = try_name(&format!("{head}-{version}")) {
                return Some(i);
            }
            if let Some(i) = try_name(head) {
                return Some(i);
            }
            base = head;
        }
        // Fine-tunes: `ft:gpt-4o-mini-2024-07-18:org:name:id`.
        if let Some(rest) = base.strip_prefix("ft:") {
            let ft_base = rest.split(':').next().unwrap_or(rest);
            if let Some(i) = try_name(&format!("ft:{ft_base}")) {
                return Some(i);
            }
            let mut stripped = ft_base;
            while let Some(shorter) = strip_snapshot_suffix(stripped) {
                if let Some(i) = try_name(&format!("ft:{shorter}")) {
                    return Some(i);
                }
                stripped = shorter;
            }
            return None;
        }
        // Snapshot suffixes, one at a time.
        let mut current = base;
        if current != name
            && let Some(i) = try_name(current)
        {
            return Some(i);
        }
        while let Some(shorter) = strip_snapshot_suffix(current) {
            if let Some(i) = try_name(shorter) {
                return Some(i);
            }
            current = shorter;
        }
        None
    }
}

/// Strips one trailing snapshot marker: `-YYYY-MM-DD`, `-YYYYMMDD`, `-MMDD`/`-NNN` digits,
/// `-latest`, `-vN`.
fn strip_snapshot_suffix(name: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // -YYYY-MM-DD
    if name.len() > 11 {
        let (head, tail) = name.split_at(name.len() - 11);
        let t = tail.as_bytes();
        if t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..])
        {
            return Some(head);
        }
    }
    let (head, last) = name.rsplit_once('-')?;
    if head.is_empty() {
        return None;
    }
    let is_marker = (digits(last) && (3..=8).contains(&last.len()))
        || last == "latest"
        || (last.len() >= 2 && last.starts_with('v') && digits(&last[1..]));
    is_marker.then_some(head)
}

#[cfg(test)]
mod tests {
    use super::strip_snapshot_suffix;

    #[test]
    fn snapshot_suffixes_strip_one_at_a_time() {
        assert_eq!(strip_snapshot_suffix("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(
            strip_snapshot_suffix("claude-3-5-sonnet-20240620"),
            Some("claude-3-5-sonnet")
        );
        assert_eq!(strip_snapshot_suffix("gpt-4-0613"), Some("gpt-4"));
        assert_eq!(
            strip_snapshot_suffix("gemini-1.5-pro-002"),
            Some("gemini-1.5-pro")
        );
        assert_eq!(
            strip_snapshot_suffix("claude-3-5-sonnet-latest"),
            Some("claude-3-5-sonnet")
        );
        assert_eq!(strip_snapshot_suffix("gpt-4o"), None);
        assert_eq!(strip_snapshot_suffix("o3"), None);
        // `gpt-4` must not lose its `4`: single digits are model versions, not snapshots.
        assert_eq!(strip_snapshot_suffix("gpt-4"), None);
    }
}
