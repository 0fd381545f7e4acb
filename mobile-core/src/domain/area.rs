use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::DomainError;

named_enum!(
    /// The seven nested levels of the city (七级), from the top down.
    AreaLevel, "level",
    City => "city",
    District => "district",
    Street => "street",
    Community => "community",
    Grid => "grid",
    Compound => "compound",
    Building => "building",
);

impl AreaLevel {
    /// 1 for the city … 7 for a building.
    pub fn depth(self) -> u8 {
        match self {
            AreaLevel::City => 1,
            AreaLevel::District => 2,
            AreaLevel::Street => 3,
            AreaLevel::Community => 4,
            AreaLevel::Grid => 5,
            AreaLevel::Compound => 6,
            AreaLevel::Building => 7,
        }
    }

    /// The level directly above, `None` for the city.
    pub fn parent(self) -> Option<AreaLevel> {
        let d = self.depth();
        (d > 1).then(|| AreaLevel::ALL[usize::from(d) - 2])
    }
}

/// An area's code. Real data does not always follow the national scheme (GB/T 2260 district
/// code, then 3 digits per level): Hangzhou's grid files use codes like `TS-3-3`. So the code is
/// only required to be a short, printable identifier that is safe in URLs and file names;
/// containment is decided by the area tree, never by parsing codes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::new("area_code", "required", "area code is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(DomainError::new(
                "area_code",
                "too_long",
                format!("area code is longer than {} bytes", Self::MAX_LEN),
            ));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
            return Err(DomainError::new(
                "area_code",
                "invalid_format",
                format!("area code may hold only ASCII letters, digits, '-', '_' and '.', found {c:?}"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&value)
    }
}

impl From<AreaCode> for String {
    fn from(value: AreaCode) -> Self {
        value.0
    }
}

impl FromStr for AreaCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AreaCode::parse(s)
    }
}

/// Answers "is `area` inside `ancestor`" (an area is inside itself). The server implements it
/// over its area tree; phones over the areas they have synced.
pub trait AreaTree {
    fn is_within(&self, area: &AreaCode, ancestor: &AreaCode) -> bool;

    /// `root` and every area below it, for turning a scope into a query filter.
    fn subtree(&self, root: &AreaCode) -> Vec<AreaCode> {
        vec![root.clone()]
    }
}

/// The tree that knows no areas yet: an area is only within itself. Scope checks stay strict
/// (deny by default) until a real tree is loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAreas;

impl AreaTree for NoAreas {
    fn is_within(&self, area: &AreaCode, ancestor: &AreaCode) -> bool {
        area == ancestor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip_and_chain_upwards() {
        for level in AreaLevel::ALL {
            assert_eq!(level.as_str().parse::<AreaLevel>(), Ok(level));
        }
        assert_eq!(AreaLevel::City.parent(), None);
        assert_eq!(AreaLevel::Grid.parent(), Some(AreaLevel::Community));
        assert_eq!(AreaLevel::Building.parent(), Some(AreaLevel::Compound));
        assert!("ward".parse::<AreaLevel>().is_err());
    }

    #[test]
    fn area_codes_accept_national_and_local_schemes() {
        assert!(AreaCode::parse("420102003").is_ok());
        assert!(AreaCode::parse("TS-3-3").is_ok());
        assert_eq!(AreaCode::parse(" 420102 ").map(|c| c.to_string()), Ok("420102".to_owned()));
        assert_eq!(AreaCode::parse("").map_err(|e| e.code), Err("required"));
        assert_eq!(AreaCode::parse("a/b").map_err(|e| e.code), Err("invalid_format"));
        assert_eq!(AreaCode::parse(&"9".repeat(65)).map_err(|e| e.code), Err("too_long"));
    }
}
