//! The Firebase service account: what signs the OAuth assertion and names the project.

use std::path::Path;

use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: Option<String>,
}

/// A parsed service account key. `Debug` leaves the key out.
#[derive(Clone)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    pub token_uri: String,
    pub key: RsaPrivateKey,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

impl ServiceAccount {
    /// Parses the JSON key file Firebase hands out.
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let f: File = serde_json::from_str(json).map_err(|e| anyhow::anyhow!("not a service account key file: {e}"))?;
        let key = RsaPrivateKey::from_pkcs8_pem(&f.private_key)
            .map_err(|e| anyhow::anyhow!("the service account's private_key is not a PKCS#8 RSA key: {e}"))?;
        Ok(Self {
            project_id: f.project_id,
            client_email: f.client_email,
            token_uri: f.token_uri.unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned()),
            key,
        })
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the FCM credentials {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}
