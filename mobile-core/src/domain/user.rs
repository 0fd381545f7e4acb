use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::DomainError;

/// A login name: 3–64 characters of lower-case ASCII letters, digits, `.`, `_`, `-`, starting with
/// a letter or digit. Normalised to lower case so `Wang.Li` and `wang.li` are one account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err(DomainError::new("username", "invalid_length", "username must be 3 to 64 characters"));
        }
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
        let starts_well = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !starts_well || !s.chars().all(valid_char) {
            return Err(DomainError::new(
                "username",
                "invalid_format",
                "username may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

/// A new password that meets the policy (NIST 800-63B: length over composition rules). Its
/// `Debug` never shows the secret, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(DomainError::new(
                "password",
                "too_short",
                format!("password must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(DomainError::new(
                "password",
                "too_long",
                format!("password must be at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Wang.Li ").map(|u| u.to_string()), Ok("wang.li".to_owned()));
        assert_eq!(Username::parse("ab").map_err(|e| e.code), Err("invalid_length"));
        assert_eq!(Username::parse("_admin").map_err(|e| e.code), Err("invalid_format"));
        assert_eq!(Username::parse("wang li").map_err(|e| e.code), Err("invalid_format"));
    }

    #[test]
    fn passwords_have_a_length_policy_and_hide_in_debug() {
        assert_eq!(Password::parse("short").map_err(|e| e.code), Err("too_short"));
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        assert_eq!(Password::parse(&"x".repeat(257)).map_err(|e| e.code), Err("too_long"));
    }
}
