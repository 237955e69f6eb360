//! Start-up reconciliation of `-encrypt` with the keyring files, by Consul's rules
//! (agent/keyring.go setupBaseKeyrings): a keyring file that exists wins; `-encrypt` only
//! seeds a file that does not exist yet. Operators trip on the first rule (they change
//! `-encrypt` and nothing happens), so every mismatch produces a loud, explicit warning.

use std::path::{Path, PathBuf};

use crate::error::KeyringError;
use crate::file::{load, save};
use crate::keyring::Keyring;
use crate::keytext::{decode_key, fingerprint, fingerprint_text};

#[derive(Debug)]
pub struct StartupKeyrings {
    /// None: LAN gossip is not encrypted.
    pub lan: Option<Keyring>,
    /// None: WAN gossip is not encrypted (or the agent has no WAN pool).
    pub wan: Option<Keyring>,
    /// Operator-facing warnings, to be logged at WARN as they are (multi-line).
    pub warnings: Vec<String>,
    /// Files created from `-encrypt` during this start-up.
    pub seeded: Vec<PathBuf>,
}

/// `configured` is the `-encrypt` key text ("" counts as unset); `wan_path` is None on
/// agents without a WAN pool (clients). Errors: a bad `-encrypt` key ("Invalid key: ...")
/// or a keyring file that cannot be read or written.
pub fn startup(configured: Option<&str>, lan_path: &Path, wan_path: Option<&Path>) -> Result<StartupKeyrings, KeyringError> {
    let configured = configured.filter(|t| !t.trim().is_empty());
    let key = configured.map(decode_key).transpose()?;
    let files = Files { lan: lan_path, wan: wan_path };
    let mut out = StartupKeyrings { lan: None, wan: None, warnings: Vec::new(), seeded: Vec::new() };

    out.lan = reconcile("LAN", lan_path, configured, key.as_deref(), &files, &mut out)?;
    if let Some(wan) = wan_path {
        out.wan = reconcile("WAN", wan, configured, key.as_deref(), &files, &mut out)?;
    }

    // Without -encrypt, one pool can end up encrypted and the other not.
    if let Some(wan) = wan_path {
        match (&out.lan, &out.wan) {
            (Some(_), None) => out.warnings.push(half_encrypted("LAN", lan_path, "WAN", wan)),
            (None, Some(_)) => out.warnings.push(half_encrypted("WAN", wan, "LAN", lan_path)),
            _ => {}
        }
    }
    Ok(out)
}

struct Files<'a> {
    lan: &'a Path,
    wan: Option<&'a Path>,
}

impl Files<'_> {
    fn listed(&self) -> String {
        match self.wan {
            Some(w) => format!("{} and {}", self.lan.display(), w.display()),
            None => self.lan.display().to_string(),
        }
    }
}

fn reconcile(
    pool: &str,
    path: &Path,
    configured: Option<&str>,
    key: Option<&[u8]>,
    files: &Files<'_>,
    out: &mut StartupKeyrings,
) -> Result<Option<Keyring>, KeyringError> {
    let existing = load(path)?;
    match (existing, key, configured) {
        (Some(ring), Some(key), Some(text)) => {
            if ring.position(key) != Some(0) {
                out.warnings.push(mismatch_warning(pool, path, text, key, &ring, files));
            }
            Ok(Some(ring))
        }
        (Some(ring), _, _) => Ok(Some(ring)),
        (None, Some(key), _) => {
            let ring = Keyring::new(key, &[])?;
            save(path, &ring)?;
            out.seeded.push(path.to_path_buf());
            Ok(Some(ring))
        }
        (None, None, _) => Ok(None),
    }
}

fn key_list(ring: &Keyring) -> String {
    ring.keys()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let role = if i == 0 { " (primary: encrypts)" } else { "" };
            format!("#{} {}{}", i + 1, fingerprint(k), role)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mismatch_warning(pool: &str, path: &Path, text: &str, key: &[u8], ring: &Keyring, files: &Files<'_>) -> String {
    let given = fingerprint_text(text);
    let primary = fingerprint(ring.primary());
    let (headline, situation) = match ring.position(key) {
        // Consul's own words first (agent/keyring.go), so the line is familiar.
        None => (
            format!("WARNING: {pool} keyring doesn't include key provided with -encrypt, using keyring"),
            format!(
                "The -encrypt key {given} is NOT in {path}. This agent encrypts {pool} gossip with {primary} \
                 and cannot decrypt {given}: agents that only know {given} cannot talk to it.",
                path = path.display()
            ),
        ),
        Some(at) => (
            format!("WARNING: {pool} keyring primary key is not the key provided with -encrypt, using keyring"),
            format!(
                "The -encrypt key {given} is key #{n} in {path}, not the primary. This agent encrypts {pool} \
                 gossip with {primary} (it still decrypts {given}).",
                n = at + 1,
                path = path.display()
            ),
        ),
    };
    format!(
        "{headline}\n  \
         {situation}\n  \
         Keys in {path}: {list}.\n  \
         -encrypt only creates a keyring file that does not exist yet; once {files} exist they win and -encrypt is ignored.\n  \
         To change the keys of a running cluster: `ballast keyring -install=<key>`, then `ballast keyring -use=<key>` \
         (and `ballast keyring -remove=<old key>` once no agent uses it).\n  \
         To make -encrypt authoritative again on this agent: stop it, delete {files}, start it again.",
        path = path.display(),
        list = key_list(ring),
        files = files.listed(),
    )
}

fn half_encrypted(on: &str, on_path: &Path, off: &str, off_path: &Path) -> String {
    format!(
        "WARNING: {on} gossip is encrypted (keyring file {}) but {off} gossip is NOT: {} does not exist and no -encrypt key was given.\n  \
         Start the agent once with -encrypt=<key> to create {}, or copy {} to it with the agent stopped.",
        on_path.display(),
        off_path.display(),
        off_path.display(),
        on_path.display(),
    )
}
