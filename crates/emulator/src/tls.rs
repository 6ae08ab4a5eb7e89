//! `--tls`: a self-signed certificate for `localhost` and `127.0.0.1`, made at every start
//! with rcgen and written to `DATA/tls/cert.pem` so clients can trust exactly it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::EmulatorError;

/// A generated certificate and the acceptor serving it.
pub struct Tls {
    /// The acceptor.
    pub acceptor: TlsAcceptor,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Where the certificate was written.
    pub cert_path: PathBuf,
}

/// Generates the certificate, writes it under `data_dir/tls/`, and builds the acceptor.
pub fn setup(data_dir: &Path) -> Result<Tls, EmulatorError> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(|e| EmulatorError::Tls(e.to_string()))?;
    let cert_pem = certified.cert.pem();
    let key_der = certified.signing_key.serialize_der();
    let dir = data_dir.join("tls");
    std::fs::create_dir_all(&dir)
        .map_err(|e| EmulatorError::io(format!("creating {}", dir.display()), e))?;
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, &cert_pem)
        .map_err(|e| EmulatorError::io(format!("writing {}", cert_path.display()), e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EmulatorError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(certified.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )
        .map_err(|e| EmulatorError::Tls(e.to_string()))?;
    Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), cert_pem, cert_path })
}
