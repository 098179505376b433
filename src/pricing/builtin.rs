//! The built-in catalog files, compiled in. Each is Peekr's TOML format (docs/pricing-format.md);
//! coverage, sources and deliberate disagreements with public data files: docs/catalog.md.

/// `(file name, contents)` of every built-in catalog file, layered in this order.
///
/// Order matters only when two files list the same `(provider, id)` (they do not) and for
/// resolving a model id listed by several providers without a provider hint: the first provider
/// listed wins, so first-party providers come before clouds and hosts.
pub(crate) const BUILTIN_FILES: &[(&str, &str)] = &[
    ("openai.toml", include_str!("data/openai.toml")),
    ("anthropic.toml", include_str!("data/anthropic.toml")),
    ("google.toml", include_str!("data/google.toml")),
    ("vertex.toml", include_str!("data/vertex.toml")),
    (
        "anthropic_vertex.toml",
        include_str!("data/anthropic_vertex.toml"),
    ),
    ("bedrock.toml", include_str!("data/bedrock.toml")),
    ("azure.toml", include_str!("data/azure.toml")),
    ("mistral.toml", include_str!("data/mistral.toml")),
    ("cohere.toml", include_str!("data/cohere.toml")),
    ("deepseek.toml", include_str!("data/deepseek.toml")),
    ("xai.toml", include_str!("data/xai.toml")),
    ("groq.toml", include_str!("data/groq.toml")),
    ("together.toml", include_str!("data/together.toml")),
    ("fireworks.toml", include_str!("data/fireworks.toml")),
    ("perplexity.toml", include_str!("data/perplexity.toml")),
    ("cerebras.toml", include_str!("data/cerebras.toml")),
    ("voyage.toml", include_str!("data/voyage.toml")),
];
