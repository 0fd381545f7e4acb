//! TLS to PostgreSQL. libpq is built with a vendored OpenSSL, so every build encrypts and can
//! verify the server without system packages. A URL that says nothing about TLS gets:
//! - with a CA file (`--database-ca-file`): `sslmode=verify-full` against that CA — encrypted, and
//!   the server's certificate must be signed by it and name the host;
//! - to another machine without one: `sslmode=require` — encrypted, the server unverified (the
//!   start-up log says so);
//! - on this machine (loopback or a Unix socket): libpq's `prefer` — TLS when the server offers it.
//!
//! A URL's own `sslmode` is kept as written: the operator decided.

use std::path::Path;

/// How the connection is protected, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    Verified,
    EncryptedUnverified,
    LocalPreferred,
    AsWritten,
}

impl Protection {
    pub fn describe(self) -> &'static str {
        match self {
            Protection::Verified => "TLS, server verified (verify-full)",
            Protection::EncryptedUnverified => {
                "TLS, server NOT verified (sslmode=require): set --database-ca-file to verify it"
            }
            Protection::LocalPreferred => "local: TLS if the server offers it (sslmode=prefer)",
            Protection::AsWritten => "as the URL's sslmode says",
        }
    }
}

/// The URL's query parameters.
fn params(raw: &str) -> Vec<(String, String)> {
    raw.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Whether the server is on this machine: a loopback host or a Unix socket directory.
fn is_local(raw: &str) -> bool {
    if let Some((_, dir)) = params(raw).into_iter().find(|(k, _)| k == "host") {
        return dir.starts_with('/') || dir.starts_with("%2F") || is_loopback(&dir);
    }
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.is_empty() || is_loopback(host)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes a path for a URL's query.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The PostgreSQL URL with Gridwork's TLS defaults applied, and what protection it gets.
pub fn secure(raw: &str, ca_file: Option<&Path>) -> Result<(String, Protection), String> {
    let given = params(raw);
    let has = |k: &str| given.iter().any(|(key, _)| key == k);
    let mut extra = vec![];
    let protection = if has("sslmode") {
        Protection::AsWritten
    } else if ca_file.is_some() {
        extra.push("sslmode=verify-full".to_owned());
        Protection::Verified
    } else if is_local(raw) {
        Protection::LocalPreferred
    } else {
        extra.push("sslmode=require".to_owned());
        Protection::EncryptedUnverified
    };
    if let Some(ca) = ca_file
        && !has("sslrootcert")
    {
        let ca = std::fs::canonicalize(ca)
            .map_err(|e| format!("the database CA file {} cannot be read: {e}", ca.display()))?;
        extra.push(format!("sslrootcert={}", encode(&ca.to_string_lossy())));
    }
    if extra.is_empty() {
        return Ok((raw.to_owned(), protection));
    }
    let joiner = if raw.contains('?') { '&' } else { '?' };
    Ok((format!("{raw}{joiner}{}", extra.join("&")), protection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_where_the_server_is_and_whether_a_ca_is_given() {
        let (url, p) = secure("postgres://u:p@db.example.org:5432/gw", None).unwrap();
        assert_eq!(
            (url.as_str(), p),
            ("postgres://u:p@db.example.org:5432/gw?sslmode=require", Protection::EncryptedUnverified)
        );
        for local in [
            "postgres://postgres@127.0.0.1:5432/x",
            "postgres://u@localhost/x",
            "postgres://u@[::1]:5432/x",
            "postgres:///x?host=/run/postgresql",
        ] {
            let (url, p) = secure(local, None).unwrap();
            assert_eq!((url.as_str(), p), (local, Protection::LocalPreferred), "{local}");
        }
        let (url, p) = secure("postgres://u@db/x?sslmode=disable", None).unwrap();
        assert_eq!((url.as_str(), p), ("postgres://u@db/x?sslmode=disable", Protection::AsWritten));
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("my ca.pem");
        std::fs::write(&ca, "x").unwrap();
        let (url, p) = secure("postgres://u@127.0.0.1/x?application_name=gw", Some(&ca)).unwrap();
        assert_eq!(p, Protection::Verified);
        assert!(
            url.starts_with("postgres://u@127.0.0.1/x?application_name=gw&sslmode=verify-full&sslrootcert=/"),
            "{url}"
        );
        assert!(url.ends_with("/my%20ca.pem"), "{url}");
        let missing = secure("postgres://u@db/x", Some(&dir.path().join("nope.pem"))).unwrap_err();
        assert!(missing.contains("nope.pem"), "{missing}");
    }
}
