//! TLS for https checks and `tcp_use_tls`: rustls (ring) over glommio
//! sockets, with Consul's TLSSkipVerify / TLSServerName, and Go's texts for
//! the common handshake failures.

use std::io;
use std::sync::{Arc, OnceLock};

use futures_rustls::client::TlsStream;
use futures_rustls::TlsConnector;
use glommio::net::TcpStream;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// A check's TLS settings (`TLSSkipVerify`, `TLSServerName`) and the CAs to
/// trust.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// Accept any server certificate (the handshake's signatures are
    /// still checked).
    pub skip_verify: bool,
    /// SNI and the name to verify; `""` means the host being dialed.
    pub server_name: String,
    /// Trusted CAs; `None` means the system's bundle ([`load_system_roots`]),
    /// as Go's crypto/x509 does when the agent has no `ca_file`.
    pub roots: Option<Arc<RootCertStore>>,
}

/// The system's CA certificates, read once per process (rustls-native-certs;
/// unreadable entries skipped). The first call reads files synchronously:
/// the agent may call it once at start-up, off the executors.
pub fn load_system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut store = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            let _ = store.add_parsable_certificates(found.certs);
            Arc::new(store)
        })
        .clone()
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(ring::default_provider()))
        .clone()
}

fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?;
    let mut config = if settings.skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth()
    } else {
        let roots = settings.roots.clone().unwrap_or_else(load_system_roots);
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // We speak HTTP/1.1 only (Go would also offer h2).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Runs the client handshake on `stream`, naming the server
/// `settings.server_name` or else `host`. Errors are Go's texts.
pub(crate) async fn handshake(
    stream: TcpStream,
    settings: &TlsSettings,
    host: &str,
) -> Result<TlsStream<TcpStream>, String> {
    let config = client_config(settings)?;
    let name = if settings.server_name.is_empty() {
        host
    } else {
        &settings.server_name
    };
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|_| format!("tls: invalid server name {name:?}"))?;
    TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|e| handshake_error_text(&e))
}

/// Go's `crypto/tls` / `crypto/x509` wording for what rustls reports.
pub(crate) fn handshake_error_text(err: &io::Error) -> String {
    let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            return "EOF".to_string();
        }
        return crate::goerr::errno_text(err);
    };
    match tls {
        rustls::Error::InvalidCertificate(cert) => {
            format!("tls: failed to verify certificate: {}", x509_text(cert))
        }
        rustls::Error::AlertReceived(alert) => {
            format!("remote error: tls: {}", spaced_lower(&format!("{alert:?}")))
        }
        other => format!("tls: {other}"),
    }
}

fn x509_text(err: &CertificateError) -> String {
    match err {
        CertificateError::UnknownIssuer => {
            "x509: certificate signed by unknown authority".to_string()
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let expected = expected.to_str();
            if presented.is_empty() {
                format!(
                    "x509: certificate is not valid for any names, but wanted to match {expected}"
                )
            } else {
                format!(
                    "x509: certificate is valid for {}, not {expected}",
                    presented.join(", ")
                )
            }
        }
        CertificateError::NotValidForName => {
            "x509: certificate is not valid for the requested name".to_string()
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => {
            "x509: certificate has expired or is not yet valid".to_string()
        }
        other => format!("x509: {other:?}"),
    }
}

/// `HandshakeFailure` -> `handshake failure`.
fn spaced_lower(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// TLSSkipVerify: any certificate chain is accepted, but the handshake
/// signatures are still verified with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_read_like_go() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        assert_eq!(
            handshake_error_text(&wrap(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))),
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        );
        assert_eq!(
            handshake_error_text(&wrap(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure
            ))),
            "remote error: tls: handshake failure"
        );
        assert_eq!(
            handshake_error_text(&io::Error::from(io::ErrorKind::UnexpectedEof)),
            "EOF"
        );
    }
}
