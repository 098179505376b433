//! The shipped OpenTelemetry Collector configurations: `otel-collector-config.yaml` (apps →
//! Collector → Peekr + Jaeger/Tempo + debug) and `otel-collector-scaleout.yaml` (apps →
//! Collector → `loadbalancing` by trace ID → several Peekr receivers).
//!
//! No Collector binary runs here (none is installable offline), so these tests check what a
//! Collector would reject or what would silently misroute: undefined or unused components,
//! component types outside the core/contrib set used, endpoints that are neither Peekr's
//! defaults nor the ports the files document, two listeners on one port, a Peekr exporter
//! without an API key, and a load balancer that does not route by trace ID.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize as _;
use serde_norway::Value;

const MAIN: &str = "otel-collector-config.yaml";
const SCALEOUT: &str = "otel-collector-scaleout.yaml";

/// Peekr's defaults (DESIGN.md §6): OTLP/gRPC receiver and Costs page.
const PEEKR_RECEIVER_DEFAULT: &str = "127.0.0.1:4317";
const PEEKR_DASHBOARD_DEFAULT: &str = "127.0.0.1:8080";

/// The Collector takes the standard OTLP port, on every interface.
const COLLECTOR_OTLP_GRPC: &str = "0.0.0.0:4317";
/// Where the files put Peekr receivers instead of the default (the Collector holds 4317).
const PEEKR_RECEIVERS_DOCUMENTED: [&str; 3] =
    ["127.0.0.1:4319", "127.0.0.1:4320", "127.0.0.1:4321"];
/// Jaeger's (or Tempo's) OTLP/gRPC port 4317, published on the host as 14317.
const JAEGER_OTLP_GRPC: &str = "127.0.0.1:14317";

/// The OTLP/gRPC exporter's type: `otlp`, also `otlp_grpc` since Collector v0.144.0.
const OTLP_GRPC_EXPORTER_TYPES: [&str; 2] = ["otlp", "otlp_grpc"];

struct Config {
    file: &'static str,
    text: String,
    yaml: Value,
}

fn load(file: &'static str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let yaml = {
        let mut docs = serde_norway::Deserializer::from_str(&text);
        let first = docs.next().unwrap_or_else(|| panic!("{file}: empty"));
        let yaml =
            Value::deserialize(first).unwrap_or_else(|e| panic!("{file}: invalid YAML: {e}"));
        assert!(
            docs.next().is_none(),
            "{file}: one YAML document per file (the Collector reads one)"
        );
        yaml
    };
    Config { file, text, yaml }
}

impl Config {
    fn section(&self, name: &str) -> BTreeMap<String, &Value> {
        let map = self.yaml.get(name).and_then(Value::as_mapping);
        let map = map.unwrap_or_else(|| panic!("{}: no `{name}` mapping", self.file));
        map.iter()
            .map(|(k, v)| (k.as_str().expect("component ids are strings").to_owned(), v))
            .collect()
    }

    fn pipelines(&self) -> BTreeMap<String, &Value> {
        let pipelines = self.yaml.get("service").and_then(|s| s.get("pipelines"));
        let map = pipelines.and_then(Value::as_mapping);
        let map = map.unwrap_or_else(|| panic!("{}: no service.pipelines", self.file));
        map.iter()
            .map(|(k, v)| (k.as_str().expect("pipeline ids").to_owned(), v))
            .collect()
    }

    fn exporter(&self, id: &str) -> &Value {
        self.section("exporters")
            .get(id)
            .copied()
            .unwrap_or_else(|| panic!("{}: no exporter `{id}`", self.file))
    }

    /// Exporters of OTLP/gRPC type: `otlp/NAME` or `otlp_grpc/NAME`.
    fn otlp_exporters(&self) -> BTreeMap<String, &Value> {
        self.section("exporters")
            .into_iter()
            .filter(|(id, _)| OTLP_GRPC_EXPORTER_TYPES.contains(&component_type(id)))
            .collect()
    }
}

/// `otlp/peekr` → `otlp`.
fn component_type(id: &str) -> &str {
    id.split_once('/').map_or(id, |(t, _)| t)
}

fn strings(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .map(|v| v.as_str().expect("string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every `endpoint:` value and every resolver hostname, anywhere in the file.
fn endpoints(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    (Some("endpoint"), Value::String(s)) => out.push(s.clone()),
                    (Some("hostnames"), Value::Sequence(items)) => {
                        out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    _ => endpoints(v, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| endpoints(v, out)),
        _ => {}
    }
}

fn port(endpoint: &str) -> u16 {
    let port = endpoint
        .rsplit_once(':')
        .map(|(_, p)| p)
        .unwrap_or_default();
    port.parse()
        .unwrap_or_else(|_| panic!("endpoint `{endpoint}` has no port"))
}

/// The API key header on an OTLP exporter (or exporter template), as Peekr reads it.
fn assert_sends_api_key(file: &str, id: &str, otlp: &Value) {
    let headers = otlp.get("headers").and_then(Value::as_mapping);
    let headers = headers.unwrap_or_else(|| panic!("{file}: `{id}` sends no headers"));
    let bearer = headers.get("authorization").and_then(Value::as_str);
    let x_api_key = headers.get("x-api-key").and_then(Value::as_str);
    let ok = bearer.is_some_and(|v| v.starts_with("Bearer ") && v.contains("${env:PEEKR_API_KEY}"))
        || x_api_key.is_some_and(|v| v.contains("${env:PEEKR_API_KEY}"));
    assert!(
        ok,
        "{file}: `{id}` must send `authorization: Bearer ${{env:PEEKR_API_KEY}}` or x-api-key"
    );
    assert_eq!(
        otlp.get("tls")
            .and_then(|t| t.get("insecure"))
            .and_then(Value::as_bool),
        Some(true),
        "{file}: `{id}`: Peekr's receiver is plaintext gRPC on loopback"
    );
}

#[test]
fn collector_configs_are_single_yaml_documents_with_the_four_sections() {
    for file in [MAIN, SCALEOUT] {
        let config = load(file);
        for section in ["receivers", "processors", "exporters", "service"] {
            assert!(
                config.yaml.get(section).is_some(),
                "{file}: missing `{section}`"
            );
        }
        assert!(
            config.text.starts_with('#'),
            "{file}: opens with a comment saying what it is for"
        );
    }
}

#[test]
fn collector_pipelines_reference_only_defined_components_and_use_every_one() {
    for file in [MAIN, SCALEOUT] {
        let config = load(file);
        let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (name, pipeline) in config.pipelines() {
            assert!(
                ["traces", "metrics", "logs"].contains(&component_type(&name)),
                "{file}: pipeline `{name}` has no signal type"
            );
            for kind in ["receivers", "processors", "exporters"] {
                let ids = strings(pipeline.get(kind));
                if kind != "processors" {
                    assert!(!ids.is_empty(), "{file}: pipeline `{name}` has no {kind}");
                }
                let defined = config.section(kind);
                for id in ids {
                    assert!(
                        defined.contains_key(&id),
                        "{file}: pipeline `{name}` uses undefined {kind} `{id}`"
                    );
                    used.entry(kind).or_default().insert(id);
                }
            }
        }
        for kind in ["receivers", "processors", "exporters"] {
            for id in config.section(kind).keys() {
                assert!(
                    used.get(kind).is_some_and(|u| u.contains(id)),
                    "{file}: {kind} `{id}` is defined but no pipeline uses it"
                );
            }
        }
    }
}

#[test]
fn collector_component_types_are_ones_the_contrib_distribution_ships() {
    let known: [(&str, &[&str]); 3] = [
        ("receivers", &["otlp"]),
        ("processors", &["batch"]),
        (
            "exporters",
            &["otlp", "otlp_grpc", "debug", "loadbalancing"],
        ),
    ];
    for file in [MAIN, SCALEOUT] {
        let config = load(file);
        for (kind, types) in known {
            for id in config.section(kind).keys() {
                assert!(
                    types.contains(&component_type(id)),
                    "{file}: unexpected {kind} type in `{id}`"
                );
            }
        }
        let debug = config.exporter("debug");
        assert_eq!(
            debug.get("verbosity").and_then(Value::as_str),
            Some("detailed"),
            "{file}"
        );
    }
}

#[test]
fn collector_receives_otlp_grpc_on_the_standard_port() {
    for file in [MAIN, SCALEOUT] {
        let config = load(file);
        let otlp = config.section("receivers")["otlp"];
        let grpc = otlp.get("protocols").and_then(|p| p.get("grpc"));
        let endpoint = grpc.and_then(|g| g.get("endpoint")).and_then(Value::as_str);
        assert_eq!(endpoint, Some(COLLECTOR_OTLP_GRPC), "{file}");
    }
}

#[test]
fn collector_endpoints_name_peekr_defaults_or_the_documented_ports() {
    let mut allowed: BTreeSet<&str> = [COLLECTOR_OTLP_GRPC, JAEGER_OTLP_GRPC].into();
    allowed.extend(PEEKR_RECEIVERS_DOCUMENTED);
    for file in [MAIN, SCALEOUT] {
        let config = load(file);
        let mut found = Vec::new();
        endpoints(&config.yaml, &mut found);
        assert!(!found.is_empty(), "{file}: no endpoints found");
        for endpoint in &found {
            assert!(
                allowed.contains(endpoint.as_str()),
                "{file}: endpoint `{endpoint}` is not documented"
            );
            assert_ne!(
                endpoint, PEEKR_RECEIVER_DEFAULT,
                "{file}: the Collector holds 4317 on this host"
            );
            if PEEKR_RECEIVERS_DOCUMENTED.contains(&endpoint.as_str()) {
                // The header tells how to start the receiver that listens there.
                let listen = format!("peekr serve --listen {endpoint}");
                assert!(
                    config.text.contains(&listen),
                    "{file}: documents `{listen}`"
                );
            }
        }
        // One port, one listener: Collector, each Peekr receiver and dashboard, Jaeger.
        let mut listeners: Vec<u16> = found.iter().map(|e| port(e)).collect();
        listeners.push(port(PEEKR_DASHBOARD_DEFAULT));
        listeners.sort_unstable();
        listeners.dedup();
        let distinct: BTreeSet<&String> = found.iter().collect();
        assert_eq!(
            listeners.len(),
            distinct.len() + 1,
            "{file}: two listeners share a port: {found:?}"
        );
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/integrations.md"))
            .expect("docs/integrations.md");
    for needle in [
        "peekr serve --listen 127.0.0.1:4319",
        PEEKR_DASHBOARD_DEFAULT,
        MAIN,
        SCALEOUT,
    ] {
        assert!(
            docs.contains(needle),
            "docs/integrations.md mentions `{needle}`"
        );
    }
}

#[test]
fn collector_sends_to_peekr_with_an_api_key_and_to_jaeger_over_otlp() {
    let config = load(MAIN);
    let otlp = config.otlp_exporters();
    let peekr = otlp
        .iter()
        .find(|(id, _)| id.ends_with("/peekr"))
        .unwrap_or_else(|| panic!("{MAIN}: an otlp/peekr exporter"));
    assert_eq!(
        peekr.1.get("endpoint").and_then(Value::as_str),
        Some(PEEKR_RECEIVERS_DOCUMENTED[0])
    );
    assert_sends_api_key(MAIN, peekr.0, peekr.1);

    let jaeger = otlp
        .iter()
        .find(|(id, _)| id.ends_with("/jaeger") || id.ends_with("/tempo"))
        .unwrap_or_else(|| panic!("{MAIN}: an otlp/jaeger (or otlp/tempo) exporter"));
    assert_eq!(
        jaeger.1.get("endpoint").and_then(Value::as_str),
        Some(JAEGER_OTLP_GRPC)
    );

    let traces = config.pipelines()["traces"];
    let exporters = strings(traces.get("exporters"));
    for id in [peekr.0.as_str(), jaeger.0.as_str(), "debug"] {
        assert!(
            exporters.iter().any(|e| e == id),
            "{MAIN}: the traces pipeline exports to `{id}`"
        );
    }
    assert_eq!(strings(traces.get("processors")), ["batch"]);
}

#[test]
fn collector_scaleout_load_balances_by_trace_id_across_several_peekr_receivers() {
    let config = load(SCALEOUT);
    let lb = config.exporter("loadbalancing");
    assert_eq!(
        lb.get("routing_key").and_then(Value::as_str),
        Some("traceID"),
        "route by trace ID"
    );

    let template = lb.get("protocol").and_then(|p| p.get("otlp"));
    let template = template.unwrap_or_else(|| panic!("{SCALEOUT}: protocol.otlp template"));
    assert!(
        template.get("endpoint").is_none(),
        "the resolver sets each backend's endpoint"
    );
    assert_sends_api_key(SCALEOUT, "loadbalancing", template);

    let resolver = lb.get("resolver").and_then(|r| r.as_mapping());
    let resolver = resolver.unwrap_or_else(|| panic!("{SCALEOUT}: a resolver"));
    assert_eq!(
        resolver.len(),
        1,
        "one resolver; with several the Collector picks k8s, then dns"
    );
    let hostnames = strings(
        lb.get("resolver")
            .and_then(|r| r.get("static"))
            .and_then(|s| s.get("hostnames")),
    );
    assert_eq!(
        hostnames, PEEKR_RECEIVERS_DOCUMENTED,
        "static resolver over the documented receivers"
    );

    let traces = config.pipelines()["traces"];
    assert!(
        strings(traces.get("exporters"))
            .iter()
            .any(|e| e == "loadbalancing")
    );
    // Nothing else may export to Peekr directly: that would bypass the trace-ID routing.
    assert!(
        config.otlp_exporters().is_empty(),
        "{SCALEOUT}: only the load balancer talks to Peekr"
    );
}
