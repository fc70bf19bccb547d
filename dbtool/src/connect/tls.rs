//! TLS as libpq does it, with rustls and its `ring` provider: the six `sslmode` values, the
//! trusted roots (`sslrootcert`: a file or `system`), the client certificate (`sslcert`,
//! `sslkey`), and one-line explanations of handshake failures.
//!
//! <https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION> is the table
//! this module follows.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Error;

/// libpq's `sslmode`; the default is `prefer`, as in libpq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// Plain first; TLS (unverified) when the server refuses a plain connection.
    Allow,
    /// TLS when the server offers it, unverified; plain otherwise.
    #[default]
    Prefer,
    /// TLS or nothing, unverified, unless `sslrootcert` is given: then the chain is verified.
    Require,
    /// TLS, the server's certificate chain verified; its host name is not checked.
    VerifyCa,
    /// TLS, the chain verified and the certificate valid for the host connected to.
    VerifyFull,
}

impl SslMode {
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The value as written in a connection string.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    pub fn parse(value: &str) -> Option<SslMode> {
        SslMode::ALL.into_iter().find(|mode| mode.as_str() == value)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// libpq's TLS settings as given in the connection string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    File(PathBuf),
    System,
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Roots::File(path) => write!(f, "sslrootcert={}", path.display()),
            Roots::System => f.write_str("the system's root certificates"),
        }
    }
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    ChainAndName,
}

/// The TLS half of the connection settings: the mode and a connector built for it.
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    roots: Option<Roots>,
    pub connector: MakeRustlsConnect,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the files the settings name and builds the connector. Files that the mode does
    /// not use are not read (libpq ignores `sslrootcert` under `disable`, for instance).
    pub fn new(settings: &TlsSettings) -> Result<Tls, Error> {
        let system = settings.sslrootcert.as_deref() == Some("system");
        let mode = match settings.sslmode.as_deref() {
            Some(value) => SslMode::parse(value).ok_or_else(|| {
                Error::BadUrl(format!(
                    "sslmode={value:?} is not one of {}",
                    SslMode::ALL.map(SslMode::as_str).join(", ")
                ))
            })?,
            // libpq: with the system's roots the default becomes verify-full.
            None if system => SslMode::VerifyFull,
            None => SslMode::default(),
        };
        if system && mode != SslMode::VerifyFull {
            return Err(Error::BadUrl(format!(
                "sslmode={mode} may not be used with sslrootcert=system (use verify-full): \
                 any certificate from a public authority would pass"
            )));
        }
        let roots = match settings.sslrootcert.as_deref() {
            Some("system") => Some(Roots::System),
            Some(path) => Some(Roots::File(PathBuf::from(path))),
            None => None,
        };
        let verify = match mode {
            SslMode::Disable | SslMode::Prefer => Verify::Nothing,
            // libpq verifies the chain under require (and so allow's TLS attempt) when a root
            // certificate is given.
            SslMode::Allow | SslMode::Require if roots.is_some() => Verify::Chain,
            SslMode::Allow | SslMode::Require => Verify::Nothing,
            SslMode::VerifyCa => Verify::Chain,
            SslMode::VerifyFull => Verify::ChainAndName,
        };
        let roots = match verify {
            Verify::Nothing => None,
            // verify-* without sslrootcert: the system's roots.
            Verify::Chain | Verify::ChainAndName => Some(roots.unwrap_or(Roots::System)),
        };
        let client_auth = match mode {
            SslMode::Disable => None,
            _ => client_certificate(settings)?,
        };
        let config = client_config(verify, roots.as_ref(), client_auth)?;
        Ok(Tls {
            mode,
            roots,
            connector: MakeRustlsConnect::new(config),
        })
    }

    /// The tokio-postgres mode of the first attempt (`allow` starts without TLS).
    pub fn first_attempt(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Pg;
        match self.mode {
            SslMode::Disable | SslMode::Allow => Pg::Disable,
            SslMode::Prefer => Pg::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Pg::Require,
        }
    }

    /// A one-line explanation when `err` is a TLS failure, which waiting will not cure: the
    /// server's certificate refused, the server without TLS under `require`, the server
    /// refusing our certificate. `None` for anything else.
    pub fn explain(&self, err: &tokio_postgres::Error, host: &str) -> Option<String> {
        let mode = self.mode;
        let Some(tls) = rustls_error(err) else {
            // tokio-postgres says so in a plain string error under its TLS error.
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
            while let Some(current) = source {
                if current.to_string() == "server does not support TLS" {
                    return Some(format!("the server does not support TLS (sslmode={mode})"));
                }
                source = current.source();
            }
            return None;
        };
        // "(sslmode=verify-ca, sslrootcert=/etc/ca.crt)"
        let settings = match &self.roots {
            Some(roots) => format!("(sslmode={mode}, {roots})"),
            None => format!("(sslmode={mode})"),
        };
        Some(match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::NotValidForName => {
                    format!("the server's certificate is not valid for host {host} {settings}")
                }
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => format!(
                    "the server's certificate is not valid for host {} {settings}; it is for {}",
                    expected.to_str(),
                    presented
                        .iter()
                        .map(|name| bare_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                CertificateError::UnknownIssuer => format!(
                    "the server's certificate is not signed by a trusted certificate authority \
                     {settings}"
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    format!("the server's certificate has expired {settings}")
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    format!("the server's certificate is not valid yet {settings}")
                }
                other => format!("the server's certificate was refused: {other} {settings}"),
            },
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => format!(
                "the server requires a client certificate: set sslcert and sslkey {settings}"
            ),
            rustls::Error::AlertReceived(
                alert @ (AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate),
            ) => format!("the server refused our client certificate ({alert:?}) {settings}"),
            other => format!("the TLS handshake failed: {other} {settings}"),
        })
    }
}

/// `db.example.com` out of rustls's `DnsName("db.example.com")`.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map_or(presented, |inner| inner.trim_matches('"'))
}

/// The rustls error inside a tokio-postgres error, if any. tokio-rustls wraps it in an
/// `io::Error`, whose `source()` skips the wrapped error, hence `get_ref`.
pub fn rustls_error(err: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = current.source();
    }
    None
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    verify: Verify,
    roots: Option<&Roots>,
    client_auth: Option<ClientAuth>,
) -> Result<ClientConfig, Error> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match (verify, roots) {
        (Verify::Nothing, _) | (_, None) => Arc::new(NoVerification(provider.clone())),
        (Verify::Chain, Some(roots)) => Arc::new(ChainOnly(webpki_verifier(roots, &provider)?)),
        (Verify::ChainAndName, Some(roots)) => webpki_verifier(roots, &provider)?,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client_auth {
        None => builder.with_no_client_auth(),
        Some((certs, key, files)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| Error::Tls(format!("cannot use the client certificate {files}: {e}")))?,
    };
    // What libpq 17 sends, and what PostgreSQL 17 requires with sslnegotiation=direct.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(config)
}

fn webpki_verifier(
    roots: &Roots,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    let store = load_roots(roots)?;
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| Error::Tls(format!("cannot use {roots}: {e}")))
}

fn load_roots(roots: &Roots) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certs = read_certificates(path, "root certificate file", "sslrootcert")?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::Tls(format!(
                    "the root certificate file {} (sslrootcert) holds no usable certificate",
                    path.display()
                )));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map_or_else(String::new, |e| format!(": {e}"));
                return Err(Error::Tls(format!(
                    "no system root certificates found (install the CA certificates, or set \
                     sslrootcert to a file){why}"
                )));
            }
        }
    }
    Ok(store)
}

fn read(path: &Path, what: &str, key: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::Tls(format!(
            "cannot read the {what} {} ({key}): {e}",
            path.display()
        ))
    })
}

fn read_certificates(
    path: &Path,
    what: &str,
    key: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = read(path, what, key)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("the {what} {} ({key}): {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Tls(format!(
            "the {what} {} ({key}) holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// A client certificate chain, its key, and the two files for messages.
type ClientAuth = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String);

/// `sslcert` and `sslkey`: PEM, the key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) form.
fn client_certificate(settings: &TlsSettings) -> Result<Option<ClientAuth>, Error> {
    let (cert, key) = match (&settings.sslcert, &settings.sslkey) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (Path::new(cert), Path::new(key)),
        (Some(_), None) => {
            return Err(Error::BadUrl(
                "sslcert is given without sslkey, the client certificate's private key".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::BadUrl(
                "sslkey is given without sslcert, the client certificate".into(),
            ))
        }
    };
    let certs = read_certificates(cert, "client certificate", "sslcert")?;
    let pem = read(key, "client key", "sslkey")?;
    let private_key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        Error::Tls(format!(
            "the client key {} (sslkey) holds no PKCS#8, PKCS#1 or SEC1 private key: {e}",
            key.display()
        ))
    })?;
    let files = format!(
        "{} (sslcert) with {} (sslkey)",
        cert.display(),
        key.display()
    );
    Ok(Some((certs, private_key, files)))
}

/// prefer and require without a root certificate: any certificate, as in libpq. The
/// handshake's signatures are still checked against the certificate presented.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
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
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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

/// verify-ca: the full check, except that a certificate for another name passes. rustls
/// checks the chain before the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> TlsSettings {
        let mut s = TlsSettings::default();
        for (key, value) in pairs {
            let value = Some((*value).to_owned());
            match *key {
                "sslmode" => s.sslmode = value,
                "sslrootcert" => s.sslrootcert = value,
                "sslcert" => s.sslcert = value,
                "sslkey" => s.sslkey = value,
                other => panic!("no setting {other}"),
            }
        }
        s
    }

    #[test]
    fn every_sslmode_round_trips_through_its_name() {
        for mode in SslMode::ALL {
            assert_eq!(SslMode::parse(mode.as_str()), Some(mode), "{mode}");
        }
        assert_eq!(SslMode::parse("verify_full"), None);
    }

    #[test]
    fn the_default_mode_is_prefer_and_verify_full_with_the_system_roots() {
        assert_eq!(Tls::new(&settings(&[])).unwrap().mode, SslMode::Prefer);
        let system = Tls::new(&settings(&[("sslrootcert", "system")]));
        // Without CA certificates installed the system roots are missing: that is a
        // configuration error, not a different mode.
        if let Ok(tls) = system {
            assert_eq!(tls.mode, SslMode::VerifyFull);
        }
    }

    #[test]
    fn the_system_roots_refuse_weaker_modes_as_libpq_does() {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let err =
                Tls::new(&settings(&[("sslmode", mode), ("sslrootcert", "system")])).unwrap_err();
            assert!(err.to_string().contains("use verify-full"), "{mode}: {err}");
        }
    }

    #[test]
    fn an_unknown_sslmode_lists_the_known_ones() {
        let err = Tls::new(&settings(&[("sslmode", "verify")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid database URL: sslmode=\"verify\" is not one of disable, allow, prefer, \
             require, verify-ca, verify-full"
        );
        assert_eq!(err.exit_code(), crate::error::exit::CONFIG);
    }

    #[test]
    fn files_are_read_only_by_the_modes_that_use_them() {
        let missing = "/nonexistent/dbtool-test/ca.crt";
        // disable and prefer never verify, so they do not read the roots (as libpq).
        for mode in ["disable", "prefer"] {
            Tls::new(&settings(&[("sslmode", mode), ("sslrootcert", missing)]))
                .unwrap_or_else(|e| panic!("{mode}: {e}"));
        }
        for mode in ["allow", "require", "verify-ca", "verify-full"] {
            let err =
                Tls::new(&settings(&[("sslmode", mode), ("sslrootcert", missing)])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "cannot read the root certificate file {missing} (sslrootcert): \
                     No such file or directory (os error 2)"
                ),
                "{mode}"
            );
            assert_eq!(err.exit_code(), crate::error::exit::CONFIG, "{mode}");
        }
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let err = Tls::new(&settings(&[("sslcert", "client.crt")])).unwrap_err();
        assert!(
            err.to_string().contains("sslcert is given without sslkey"),
            "{err}"
        );
        let err = Tls::new(&settings(&[("sslkey", "client.key")])).unwrap_err();
        assert!(
            err.to_string().contains("sslkey is given without sslcert"),
            "{err}"
        );
    }
}
