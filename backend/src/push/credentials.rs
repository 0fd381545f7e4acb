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

    /// Reads the key file; one that others on the machine can read (or write) is refused: the
    /// private key signs pushes to every phone.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        refuse_shared(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the FCM credentials {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

#[cfg(unix)]
fn refuse_shared(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read the FCM credentials {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the FCM credentials {} are open to other users (mode {:o}): chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_shared(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        std::fs::write(&path, "{}").unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = ServiceAccount::load(&path).unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{mode:o}: {e}");
        }
        // Private, it is read (and this one then fails as the key it is not).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = ServiceAccount::load(&path).unwrap_err().to_string();
        assert!(!e.contains("chmod"), "{e}");
    }
}
