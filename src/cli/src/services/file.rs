//! Service definitions from files, as Consul's services.ServicesFromFiles reads them through
//! the agent's config loader: each FILE is JSON (`.json`) or HCL (`.hcl`); files with other
//! extensions are skipped with a warning; in each file the `services` list comes before the
//! single `service`, files in the order given. Other agent settings in a file are ignored.
use std::path::Path;

use serde_json::Value;

use crate::http_client::go_io_text;
use crate::services::api::ServiceRegistration;
use crate::services::definition::{objects, service};

/// The services defined in `files`, and the warnings to show.
pub fn services_from_files(files: &[String]) -> Result<(Vec<ServiceRegistration>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for file in files {
        let Some(root) = read_config_file(file, &mut warnings)? else { continue };
        out.extend(services_in(&root).map_err(|e| format!("failed to parse {file}: {e}"))?);
    }
    Ok((out, warnings))
}

enum Format {
    Json,
    Hcl,
}

/// The parsed file, or None when its extension says it is not a config file.
fn read_config_file(file: &str, warnings: &mut Vec<String>) -> Result<Option<Value>, String> {
    let meta = std::fs::metadata(file)
        .map_err(|e| format!("config: Open failed on {file}. open {file}: {}", go_io_text(&e)))?;
    if meta.is_dir() {
        // Consul's loader would read the directory's config files; a services FILE argument
        // naming a directory is almost certainly a mistake, so say so.
        return Err(format!("config: {file} is a directory, expected a service definition file"));
    }
    let format = match Path::new(file).extension().and_then(|e| e.to_str()) {
        Some("json") => Format::Json,
        Some("hcl") => Format::Hcl,
        _ => {
            warnings.push(format!("skipping file {file}, extension must be .hcl or .json, or config format must be set"));
            return Ok(None);
        }
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("config: failed to read {file}: open {file}: {}", go_io_text(&e)))?;
    let parsed = match format {
        Format::Json => serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()),
        Format::Hcl => parse_hcl(&text),
    };
    parsed.map(Some).map_err(|e| format!("failed to parse {file}: {e}"))
}

/// HCL as the agent's config loader reads it: HCL1 layouts normalized, then the same tree a
/// JSON file gives (a block is an object, a repeated block a list of objects).
fn parse_hcl(text: &str) -> Result<Value, String> {
    let normalized = ballast_config::normalize_hcl1(text);
    let v: hcl::Value = hcl::from_str(&normalized).map_err(|e| e.to_string())?;
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// The `services` then the `service` definitions at the top of one file.
fn services_in(root: &Value) -> Result<Vec<ServiceRegistration>, String> {
    let Value::Object(top) = root else {
        return Err("the file must hold an object of agent configuration".to_string());
    };
    let mut out = Vec::new();
    // Keys match case-insensitively, as mapstructure matches them.
    for (key, label) in [("services", "services"), ("service", "service")] {
        for (k, v) in top.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)) {
            if v.is_null() {
                continue;
            }
            let defs = objects(label, v)?;
            let single = key == "service" && defs.len() == 1;
            for (i, def) in defs.into_iter().enumerate() {
                let path = if single { label.to_string() } else { format!("{k}[{i}]") };
                out.push(service(&path, def)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory unique to this test process and `name`.
    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ballast-cli-svcfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    #[test]
    fn json_services_list_comes_before_service() {
        let d = scratch("json");
        let f = write(
            &d,
            "web.json",
            r#"{"datacenter": "dc1", "service": {"name": "web", "port": 80},
                "services": [{"name": "db", "id": "db1"}, {"name": "cache"}]}"#,
        );
        let (svcs, warnings) = services_from_files(&[f]).unwrap();
        let names: Vec<&str> = svcs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "cache", "web"]);
        assert_eq!(svcs[0].id, "db1");
        assert_eq!(svcs[2].port, 80);
        assert!(warnings.is_empty());
    }

    #[test]
    fn hcl_blocks_repeated_blocks_and_hcl1_layouts() {
        let d = scratch("hcl");
        let f = write(
            &d,
            "svc.hcl",
            r#"
service {
  name = "web"
  port = 8080
  tags = ["v1", "primary"]
  meta { team = "core" }
  check { id = "web-ttl" ttl = "30s" }
}
services {
  name = "a"
}
services {
  name = "b"
  checks = [{ http = "http://localhost/health", interval = "10s" }]
}
"#,
        );
        let (svcs, _) = services_from_files(&[f]).unwrap();
        let names: Vec<&str> = svcs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "web"]);
        let web = &svcs[2];
        assert_eq!((web.port, web.tags.clone()), (8080, vec!["v1".to_string(), "primary".to_string()]));
        assert_eq!(web.meta["team"], "core");
        let check = web.check.as_ref().unwrap();
        assert_eq!((check["CheckID"].as_str(), check["TTL"].as_str()), (Some("web-ttl"), Some("30s")));
        assert_eq!(svcs[1].checks.as_ref().unwrap()[0]["Interval"], "10s");
    }

    #[test]
    fn other_extensions_are_skipped_with_consuls_warning() {
        let d = scratch("ext");
        let f = write(&d, "web.txt", r#"{"service": {"name": "web"}}"#);
        let (svcs, warnings) = services_from_files(std::slice::from_ref(&f)).unwrap();
        assert!(svcs.is_empty());
        assert_eq!(warnings, [format!("skipping file {f}, extension must be .hcl or .json, or config format must be set")]);
    }

    #[test]
    fn errors_name_the_file() {
        let d = scratch("err");
        let missing = d.join("nope.json").display().to_string();
        assert_eq!(
            services_from_files(std::slice::from_ref(&missing)).unwrap_err(),
            format!("config: Open failed on {missing}. open {missing}: no such file or directory")
        );
        let bad = write(&d, "bad.json", "{not json");
        assert!(services_from_files(std::slice::from_ref(&bad)).unwrap_err().starts_with(&format!("failed to parse {bad}: ")));
        let bad_hcl = write(&d, "bad.hcl", "service {");
        assert!(services_from_files(std::slice::from_ref(&bad_hcl)).unwrap_err().starts_with(&format!("failed to parse {bad_hcl}: ")));
        let unknown = write(&d, "u.json", r#"{"service": {"name": "web", "nmae": "x"}}"#);
        assert_eq!(
            services_from_files(std::slice::from_ref(&unknown)).unwrap_err(),
            format!("failed to parse {unknown}: invalid config key service.nmae")
        );
        let not_object = write(&d, "arr.json", "[1]");
        assert!(services_from_files(&[not_object]).is_err());
    }
}
