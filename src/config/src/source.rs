//! Config sources: the files named by -config-file / -config-dir, read as Consul reads them,
//! and their parsing into one JSON tree whatever the format.
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::error::{go_io_error, ConfigError};
use crate::hcl1::normalize_hcl1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Hcl,
}

impl Format {
    /// Parses `-config-format`; Consul accepts exactly "json" and "hcl".
    pub fn from_flag(s: &str) -> Result<Format, ConfigError> {
        match s {
            "json" => Ok(Format::Json),
            "hcl" => Ok(Format::Hcl),
            _ => Err(ConfigError::new("config: -config-format must be either 'hcl' or 'json'")),
        }
    }

    fn from_extension(name: &str) -> Option<Format> {
        if name.ends_with(".json") {
            Some(Format::Json)
        } else if name.ends_with(".hcl") {
            Some(Format::Hcl)
        } else {
            None
        }
    }
}

/// One unit of configuration text and the name errors refer to it by.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub format: Format,
    pub data: String,
}

impl Source {
    /// Parses the text into a tree; JSON and HCL give the same shapes (a block is an object).
    pub fn parse(&self) -> Result<Value, String> {
        match self.format {
            Format::Json => serde_json::from_str(&self.data).map_err(|e| e.to_string()),
            Format::Hcl => {
                let text = normalize_hcl1(&self.data);
                let v: hcl::Value = hcl::from_str(&text).map_err(|e| e.to_string())?;
                serde_json::to_value(v).map_err(|e| e.to_string())
            }
        }
    }
}

/// Reads a file, or every *.json / *.hcl file directly inside a directory in lexical order
/// (not recursing), as Consul's builder does. Files with other extensions are skipped with a
/// warning unless a format is forced.
pub fn sources_from_path(
    path: &Path,
    forced: Option<Format>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Source>, ConfigError> {
    let shown = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| {
        ConfigError::new(format!("config: Open failed on {shown}. {}", go_io_error("open", &shown, &e)))
    })?;
    if !meta.is_dir() {
        return Ok(read_if_config(path, forced, warnings)?.into_iter().collect());
    }
    let entries = fs::read_dir(path).map_err(|e| {
        ConfigError::new(format!("config: Readdir failed on {shown}. {}", go_io_error("readdirent", &shown, &e)))
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            ConfigError::new(format!("config: Readdir failed on {shown}. {}", go_io_error("readdirent", &shown, &e)))
        })?;
        names.push(entry.file_name());
    }
    names.sort();
    let mut sources = Vec::new();
    for name in names {
        let file = path.join(&name);
        // fs::metadata follows symlinks, as Consul's EvalSymlinks does.
        let meta = fs::metadata(&file).map_err(|e| {
            let f = file.display().to_string();
            ConfigError::new(go_io_error("stat", &f, &e))
        })?;
        if meta.is_dir() {
            continue;
        }
        sources.extend(read_if_config(&file, forced, warnings)?);
    }
    Ok(sources)
}

fn read_if_config(
    path: &Path,
    forced: Option<Format>,
    warnings: &mut Vec<String>,
) -> Result<Option<Source>, ConfigError> {
    let name = path.display().to_string();
    let Some(format) = forced.or_else(|| Format::from_extension(&name)) else {
        warnings.push(format!(
            "skipping file {name}, extension must be .hcl or .json, or config format must be set"
        ));
        return Ok(None);
    };
    let data = fs::read_to_string(path).map_err(|e| {
        ConfigError::new(format!("config: failed to read {name}: {}", go_io_error("open", &name, &e)))
    })?;
    Ok(Some(Source { name, format, data }))
}
